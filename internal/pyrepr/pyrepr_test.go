package pyrepr

import (
	"errors"
	"os"
	"syscall"
	"testing"
)

func TestStr(t *testing.T) {
	tests := []struct{ in, want string }{
		{"abc", `'abc'`},
		{"it's", `"it's"`},
		{`say "hi"`, `'say "hi"'`},
		{`it's "x"`, `'it\'s "x"'`},
		{`a\b`, `'a\\b'`},
		{"a\nb\tc\rd", `'a\nb\tc\rd'`},
		{"\x01\x7f", `'\x01\x7f'`},
		{"ünï", `'ünï'`},
		{"", `''`},
	}
	for _, tt := range tests {
		if got := Str(tt.in); got != tt.want {
			t.Errorf("Str(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestBytes(t *testing.T) {
	tests := []struct{ in, want string }{
		{"READY\n", `b'READY\n'`},
		{"it's", `b"it's"`},
		{`'"`, `b'\'"'`},
		{"\x00\x7f\t\\", `b'\x00\x7f\t\\'`},
		{"ü", `b'\xc3\xbc'`},
	}
	for _, tt := range tests {
		if got := Bytes([]byte(tt.in)); got != tt.want {
			t.Errorf("Bytes(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestQuote(t *testing.T) {
	if got := Quote("Process a:b stopped at Wed Nov 25 18:00:00 2026/x&y~"); got != "Process%20a%3Ab%20stopped%20at%20Wed%20Nov%2025%2018%3A00%3A00%202026/x%26y~" {
		t.Errorf("Quote = %q", got)
	}
}

func TestOSError(t *testing.T) {
	err := &os.PathError{Op: "bind", Path: "/run/x.sock", Err: syscall.EADDRINUSE}
	if got := OSError(err); got != "[Errno 98] Address already in use: '/run/x.sock'" {
		t.Errorf("OSError = %q", got)
	}
	if got := OSError(errors.New("plain")); got != "plain" {
		t.Errorf("OSError(plain) = %q", got)
	}
}
