package pyrepr

import (
	"math"
	"strconv"
	"strings"
)

// Float returns repr(f) for a Python float: the shortest digits that read
// back as f, positional with a ".0" when the decimal exponent is from -4 to
// 15, else exponent form ("1e+16", "1.5e-05"); "inf", "-inf", "nan".
func Float(f float64) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	e := strconv.FormatFloat(f, 'e', -1, 64) // "1.9e+00"
	exp, _ := strconv.Atoi(e[strings.IndexByte(e, 'e')+1:])
	if exp < -4 || exp >= 16 {
		return e
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.ContainsRune(s, '.') {
		s += ".0"
	}
	return s
}
