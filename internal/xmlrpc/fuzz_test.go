package xmlrpc

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

// Any body decodes or fails without panicking; a call that decodes encodes
// again and decodes to the same method and params.
func FuzzDecodeCall(f *testing.F) {
	f.Fuzz(func(t *testing.T, body string) {
		method, params, err := DecodeCall(strings.NewReader(body))
		if err != nil {
			return
		}
		var again bytes.Buffer
		if err := EncodeCall(&again, method, params...); err != nil {
			return // a value the encoder cannot write (an int beyond 64 bits)
		}
		m2, p2, err := DecodeCall(&again)
		if err != nil {
			t.Fatalf("re-encoded call does not decode: %v\n%s", err, again.String())
		}
		if m2 != method || len(p2) != len(params) || (len(params) > 0 && !reflect.DeepEqual(p2, params)) {
			t.Fatalf("round trip: %q %#v became %q %#v", method, params, m2, p2)
		}
	})
}
