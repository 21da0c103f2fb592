package fleet

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestSealOpenCheck(t *testing.T) {
	const secret = "0123456789abcdef"
	now := time.UnixMilli(1_000_000)
	c := command{ID: "c1", Action: "stop", Group: "worker", Nodes: []string{"a", "b"}, From: "a",
		Issued: now.UnixMilli(), Expires: now.Add(time.Minute).UnixMilli()}
	body, sig, err := seal(secret, c)
	if err != nil {
		t.Fatal(err)
	}
	got, err := open(secret, body, sig)
	if err != nil || got.ID != "c1" || !got.targets("b") || got.targets("c") || got.check(now) != nil {
		t.Fatalf("open = %+v, %v", got, err)
	}
	// Any change to the body (the id, the expiry) breaks the signature.
	for _, tc := range []struct {
		secret, body, sig string
		want              error
	}{
		{secret, body, "", errUnsigned},
		{secret, strings.Replace(body, `"c1"`, `"c2"`, 1), sig, errBadSignature},
		{secret, body, sig[:len(sig)-1] + "0", errBadSignature},
		{"another-secret-xyz", body, sig, errBadSignature},
		{"", body, sig, errNoSecret},
	} {
		if _, err := open(tc.secret, tc.body, tc.sig); !errors.Is(err, tc.want) {
			t.Errorf("open(%q, %q, %q) = %v, want %v", tc.secret, tc.body, tc.sig, err, tc.want)
		}
	}
	if err := c.check(now.Add(time.Minute + time.Millisecond)); err == nil || !strings.HasPrefix(err.Error(), "expired") {
		t.Errorf("after expiry: %v", err)
	}
	if err := c.check(now.Add(-time.Minute)); err == nil || !strings.Contains(err.Error(), "in the future") {
		t.Errorf("a minute before its issue: %v", err)
	}
}
