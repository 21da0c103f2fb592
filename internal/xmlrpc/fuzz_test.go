package xmlrpc

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// Any body decodes or fails without panicking; a call that decodes encodes
// again and decodes to the same method and as many params, and a second
// round trip changes nothing. (The first may normalise, as Python's does: a
// "\r" written as &#13; is encoded raw and read back as "\n".)
func FuzzDecodeCall(f *testing.F) {
	roundTrip := func(t *testing.T, method string, params []any) (string, []any, bool) {
		var buf bytes.Buffer
		if err := EncodeCall(&buf, method, params...); err != nil {
			return "", nil, false // a value the encoder cannot write (an int beyond 64 bits)
		}
		m, p, err := DecodeCall(&buf)
		if err != nil {
			t.Fatalf("re-encoded call does not decode: %v\n%s", err, buf.String())
		}
		return m, p, true
	}
	f.Fuzz(func(t *testing.T, body string) {
		method, params, err := DecodeCall(strings.NewReader(body))
		if err != nil {
			return
		}
		m1, p1, ok := roundTrip(t, method, params)
		if !ok {
			return
		}
		m2, p2, _ := roundTrip(t, m1, p1)
		// %#v: NaN equals NaN, maps print sorted.
		if m1 != method || len(p1) != len(params) || m2 != m1 || fmt.Sprintf("%#v", p2) != fmt.Sprintf("%#v", p1) {
			t.Fatalf("round trips: %q %#v, then %q %#v, then %q %#v", method, params, m1, p1, m2, p2)
		}
	})
}
