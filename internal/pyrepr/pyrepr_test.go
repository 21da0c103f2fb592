package pyrepr

import "testing"

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
