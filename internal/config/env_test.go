package config

import (
	"fmt"
	"testing"
)

func envString(env []EnvVar, err error) string {
	if err != nil {
		return "error: " + err.Error()
	}
	s := ""
	for _, e := range env {
		s += fmt.Sprintf("%s=%q ", e.Key, e.Value)
	}
	return s
}

// TestEnvironment holds the 4.2.5 dict_of_key_value_pairs facts (spec §1.3
// and Supervisor's test_datatypes.py).
func TestEnvironment(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"foo=bar", `foo="bar" `},
		{"foo=bar,baz=qux", `foo="bar" baz="qux" `},
		{" foo = bar , baz = qux ", `foo="bar" baz="qux" `},
		{"foo\n=\nbar\n,\nbaz\n=\nqux", `foo="bar" baz="qux" `},
		{"foo='bar,baz',baz='q,ux'", `foo="bar,baz" baz="q,ux" `},
		{`foo="bar,baz",baz="q,ux"`, `foo="bar,baz" baz="q,ux" `},
		{"foo=\"a\nb\nc\"", `foo="a\nb\nc" `},
		{`foo=""`, `foo="" `},
		{`foo="",bar=a`, `foo="" bar="a" `},
		{"HOME=/home/auser,FOO=/.foo+(1.2)-_/,SUPERVISOR_SERVER_URL=http://127.0.0.1:9001",
			`HOME="/home/auser" FOO="/.foo+(1.2)-_/" SUPERVISOR_SERVER_URL="http://127.0.0.1:9001" `},
		{"foo=bar,", `foo="bar" `},
		{"A=1;B=2", `A="1" B="2" `},
		{`FOO="bar baz",QUX=abc`, `FOO="bar baz" QUX="abc" `},
		{`A="it's"`, `A="it's" `},
		{"A=/usr/bin:/bin", `A="/usr/bin:/bin" `},
		{"A=*", `A="*" `},
		{"A.B=1,lower=x", `A.B="1" lower="x" `},
		{"A=x y", `A="x" `},
		{"A=http://x.com/?q=1", `A="http://x.com/" q="1" `},
		{`A="a\"b"`, `A="a\\" `},
		{"A=1,A=2", `A="2" `},
		{"A=x#comment\ny,B=1", `A="xy" B="1" `},
		{"A=1 #c\n,B=2", `A="1" B="2" `},
		{"foo", "error: Unexpected end of key/value pairs in value 'foo'"},
		{"foo=", "error: Unexpected end of key/value pairs in value 'foo='"},
		{"foo=bar,baz", "error: Unexpected end of key/value pairs in value 'foo=bar,baz'"},
		{"foo=bar,baz=", "error: Unexpected end of key/value pairs in value 'foo=bar,baz='"},
		{"KEY1=no-comma KEY2=ends-with-comma,", "error: Unexpected end of key/value pairs in value 'KEY1=no-comma KEY2=ends-with-comma,'"},
		{"A=1 B=2", "error: Unexpected end of key/value pairs in value 'A=1 B=2'"},
		{"A=a=b", "error: Unexpected end of key/value pairs in value 'A=a=b'"},
		{"A=a%b", "error: Unexpected end of key/value pairs in value 'A=a%b'"},
		{"email=a@b", "error: Unexpected end of key/value pairs in value 'email=a@b'"},
		{`A="open`, "error: No closing quotation"},
	} {
		if got := envString(parseEnvironment(tc.in)); got != tc.want {
			t.Errorf("parseEnvironment(%q)\n got: %s\nwant: %s", tc.in, got, tc.want)
		}
	}
}

func TestCommandArgv(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"/bin/echo a b", `["/bin/echo" "a" "b"]`},
		{`/bin/sh -c "echo 'x y'"`, `["/bin/sh" "-c" "echo 'x y'"]`},
		{`a 'b c' "d\"e" f\ g ''`, `["a" "b c" "d\"e" "f g" ""]`},
		{`a "x\y" 'x\y'`, `["a" "x\\y" "x\\y"]`},
		{"a\tb\nc", `["a" "b" "c"]`},
		{"a # not a comment", `["a" "#" "not" "a" "comment"]`},
		{"", "command is empty"},
		{"  ", "command is empty"},
		{"/bin/echo 'x", `can't parse command "/bin/echo 'x": No closing quotation`},
		{`/bin/echo x\`, `can't parse command '/bin/echo x\\': No escaped character`},
	} {
		argv, errText := commandArgv(tc.in)
		got := errText
		if errText == "" {
			got = fmt.Sprintf("%q", argv)
		}
		if got != tc.want {
			t.Errorf("commandArgv(%q)\n got: %s\nwant: %s", tc.in, got, tc.want)
		}
	}
}
