package pyrepr

import (
	"math"
	"testing"
)

func TestFloat(t *testing.T) {
	// Expected values are Python 3's repr() of the same floats.
	for _, c := range []struct {
		f    float64
		want string
	}{
		{1.9, "1.9"}, {99, "99.0"}, {-1, "-1.0"}, {0, "0.0"},
		{1e6, "1000000.0"}, {1e15, "1000000000000000.0"}, {1e16, "1e+16"},
		{1e30, "1e+30"}, {0.0001, "0.0001"}, {0.00001, "1e-05"}, {1.5e-7, "1.5e-07"},
		{1e100, "1e+100"}, {math.Inf(1), "inf"}, {math.Inf(-1), "-inf"}, {math.NaN(), "nan"},
	} {
		if got := Float(c.f); got != c.want {
			t.Errorf("Float(%v) = %q, want %q", c.f, got, c.want)
		}
	}
}
