package config

import (
	"fmt"
	"github.com/drover/drover/internal/pyrepr"
	"slices"
	"strconv"
	"strings"
)

// vars is the mapping a value is %-formatted against; values are string or int
// (process_num and numprocs are ints so that %(process_num)02d works).
type vars map[string]any

func (v vars) clone() vars {
	out := make(vars, len(v))
	for k, x := range v {
		out[k] = x
	}
	return out
}

// merge copies o's entries over v's.
func (v vars) merge(o vars) vars {
	for k, x := range o {
		v[k] = x
	}
	return v
}

// expand applies Python's `s % mapping` to s with Supervisor's error texts;
// name is what the message calls the value (e.g. "program:x.command").
func expand(s string, m vars, name string) (string, error) {
	out, err := pyFormat(s, m)
	if err == nil {
		return out, nil
	}
	if ke, ok := err.(missingKey); ok {
		names := make([]string, 0, len(m))
		for k := range m {
			names = append(names, k)
		}
		slices.Sort(names)
		return "", fmt.Errorf("Format string %s for %s contains names (%s) which cannot be expanded. Available names: %s",
			pyrepr.Str(s), pyrepr.Str(name), pyrepr.Str(string(ke)), strings.Join(names, ", "))
	}
	return "", fmt.Errorf("Format string %s for %s is badly formatted: %s", pyrepr.Str(s), pyrepr.Str(name), err.Error())
}

// missingKey is Python's KeyError from a %(name)s lookup.
type missingKey string

func (k missingKey) Error() string { return pyrepr.Str(string(k)) }

// pyFormat is Python's printf-style `%` operator with a mapping argument.
func pyFormat(s string, m vars) (string, error) {
	var b strings.Builder
	i := 0
	usedMapping := false
	for i < len(s) {
		c := s[i]
		if c != '%' {
			b.WriteByte(c)
			i++
			continue
		}
		i++
		if i >= len(s) {
			return "", fmt.Errorf("incomplete format")
		}
		if s[i] == '%' {
			b.WriteByte('%')
			i++
			continue
		}
		var val any
		keyed := false
		if s[i] == '(' {
			depth, j := 1, i+1
			for ; j < len(s) && depth > 0; j++ {
				switch s[j] {
				case '(':
					depth++
				case ')':
					depth--
				}
			}
			if depth > 0 {
				return "", fmt.Errorf("incomplete format key")
			}
			key := s[i+1 : j-1]
			v, ok := m[key]
			if !ok {
				return "", missingKey(key)
			}
			val, keyed = v, true
			i = j
		}
		start := i
		for i < len(s) && strings.IndexByte("#0- +", s[i]) >= 0 {
			i++
		}
		flags := s[start:i]
		start = i
		for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '*') {
			i++
		}
		width := s[start:i]
		prec := ""
		if i < len(s) && s[i] == '.' {
			start = i
			i++
			for i < len(s) && s[i] >= '0' && s[i] <= '9' {
				i++
			}
			prec = s[start:i]
		}
		for i < len(s) && strings.IndexByte("hlL", s[i]) >= 0 {
			i++
		}
		if i >= len(s) {
			return "", fmt.Errorf("incomplete format")
		}
		conv := s[i]
		i++
		if strings.Contains(width, "*") {
			return "", fmt.Errorf("* wants int")
		}
		if !keyed {
			// The first unkeyed spec formats the mapping itself.
			if usedMapping {
				return "", fmt.Errorf("not enough arguments for format string")
			}
			usedMapping, val = true, m
		}
		out, err := formatOne(val, conv, flags, width, prec, i-1)
		if err != nil {
			return "", err
		}
		b.WriteString(out)
	}
	return b.String(), nil
}

func formatOne(val any, conv byte, flags, width, prec string, at int) (string, error) {
	spec := "%" + flags + width + prec
	n, isInt := val.(int)
	str, _ := val.(string)
	typ := "str"
	if m, ok := val.(vars); ok {
		str, typ = m.repr(), "dict"
	}
	switch conv {
	case 's':
		spec = "%" + strings.ReplaceAll(flags, "0", "") + width + prec
		if isInt {
			str = strconv.Itoa(n)
		}
		return fmt.Sprintf(spec+"s", str), nil
	case 'r', 'a':
		spec = "%" + strings.ReplaceAll(flags, "0", "") + width + prec
		if isInt {
			str = strconv.Itoa(n)
		} else {
			str = pyrepr.Str(str)
			if typ == "dict" {
				str = val.(vars).repr()
			}
		}
		return fmt.Sprintf(spec+"s", str), nil
	case 'd', 'i', 'u':
		if !isInt {
			return "", fmt.Errorf("%%%c format: a real number is required, not %s", conv, typ)
		}
		return fmt.Sprintf(spec+"d", n), nil
	case 'x', 'X', 'o':
		if !isInt {
			return "", fmt.Errorf("%%%c format: an integer is required, not %s", conv, typ)
		}
		return fmt.Sprintf(spec+string(conv), n), nil
	case 'e', 'E', 'f', 'F', 'g', 'G':
		if !isInt {
			return "", fmt.Errorf("must be real number, not %s", typ)
		}
		return fmt.Sprintf(spec+string(conv), float64(n)), nil
	case 'c':
		if isInt {
			return fmt.Sprintf(spec+"c", rune(n)), nil
		}
		if typ == "dict" || len([]rune(str)) != 1 {
			return "", fmt.Errorf("%%c requires int or char")
		}
		return fmt.Sprintf(spec+"s", str), nil
	}
	return "", fmt.Errorf("unsupported format character '%c' (0x%x) at index %d", conv, conv, at)
}

// repr approximates Python's repr of the mapping (keys sorted, since Go
// maps have no insertion order); only reached by a bare %s in a value.
func (v vars) repr() string {
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		val := fmt.Sprint(v[k])
		if s, ok := v[k].(string); ok {
			val = pyrepr.Str(s)
		}
		parts[i] = pyrepr.Str(k) + ": " + val
	}
	return "{" + strings.Join(parts, ", ") + "}"
}
