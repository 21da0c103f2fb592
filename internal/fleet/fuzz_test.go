package fleet

import (
	"testing"
	"time"
)

// FuzzOpenCommand: a stream entry (anyone who can write to Redis can add
// one) opens only with the signature of its exact body under the node's
// secret, and whatever it decodes to can be checked and targeted without
// a panic.
func FuzzOpenCommand(f *testing.F) {
	const secret = "s3cret"
	body, sig, err := seal(secret, command{ID: "a1", Action: "restart", Group: "w", Nodes: []string{"n1"}, Issued: 1, Expires: 2})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(body, sig)
	f.Add(body, "")
	f.Add(`{"id":"x","issued_ms":-9223372036854775808,"expires_ms":9223372036854775807}`, sign(secret, []byte(`{"id":"x","issued_ms":-9223372036854775808,"expires_ms":9223372036854775807}`)))
	f.Add("not json", sign(secret, []byte("not json")))
	f.Fuzz(func(t *testing.T, body, sig string) {
		c, err := open(secret, body, sig)
		if err != nil {
			return
		}
		if sig != sign(secret, []byte(body)) {
			t.Fatalf("opened with a signature that is not the body's: %q %q", body, sig)
		}
		if c.ID == "" {
			t.Fatalf("opened a command without an id: %q", body)
		}
		c.check(time.Now())
		c.targets("n1")
	})
}
