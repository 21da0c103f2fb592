package config

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
)

// errText renders (value, err) for table comparison.
func errText(v any, err error) string {
	if err != nil {
		return "error: " + err.Error()
	}
	return fmt.Sprint(v)
}

func TestBool(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"yes", "true"}, {"TRUE", "true"}, {"on", "true"}, {"1", "true"},
		{"no", "false"}, {"False", "false"}, {"OFF", "false"}, {"0", "false"},
		{"maybe", "error: not a valid boolean value: 'maybe'"},
		{"", "error: not a valid boolean value: ''"},
	} {
		if got := errText(parseBool(tc.in)); got != tc.want {
			t.Errorf("parseBool(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestInt(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"1", "1"}, {" 42 ", "42"}, {"+5", "5"}, {"-1", "-1"}, {"010", "10"}, {"1_000", "1000"},
		{"abc", "error: invalid literal for int() with base 10: 'abc'"},
		{"1.5", "error: invalid literal for int() with base 10: '1.5'"},
		{"", "error: invalid literal for int() with base 10: ''"},
		{"--1", "error: invalid literal for int() with base 10: '--1'"},
	} {
		if got := errText(pyInt(tc.in)); got != tc.want {
			t.Errorf("pyInt(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestByteSize(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"0", "0"}, {"1024", "1024"}, {"1KB", "1024"}, {"50MB", "52428800"}, {"50mb", "52428800"},
		{"1GB", "1073741824"}, {"2gB", "2147483648"},
		{"10M", "error: invalid literal for int() with base 10: '10m'"},
		{"1.5MB", "error: invalid literal for int() with base 10: '1.5'"},
		{"1B", "error: invalid literal for int() with base 10: '1b'"},
	} {
		if got := errText(parseByteSize(tc.in)); got != tc.want {
			t.Errorf("parseByteSize(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestOctal(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"10", "8"}, {"022", "18"}, {"0o22", "18"}, {"22", "18"}, {"777", "511"},
		{"bad", "error: bad can not be converted to an octal type"},
		{"1.2", "error: 1.2 can not be converted to an octal type"},
		{"8", "error: 8 can not be converted to an octal type"},
	} {
		if got := errText(parseOctal(tc.in)); got != tc.want {
			t.Errorf("parseOctal(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestExitCodes(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "[]"}, {"0", "[0]"}, {"1,2,3", "[1 2 3]"}, {" 1 , 42 ", "[1 42]"}, {"0,255", "[0 255]"},
		{"a,b,c", "error: not a valid list of exit codes: 'a,b,c'"},
		{"1024", "error: not a valid list of exit codes: '1024'"},
		{"-1,1", "error: not a valid list of exit codes: '-1,1'"},
		{"0,256", "error: not a valid list of exit codes: '0,256'"},
	} {
		if got := errText(parseExitCodes(tc.in)); got != tc.want {
			t.Errorf("parseExitCodes(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestStringList(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{{"", nil}, {"foo,bar", []string{"foo", "bar"}}, {" foo , bar ", []string{"foo", "bar"}}, {"a,", []string{"a", ""}}} {
		if got := parseStringList(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("parseStringList(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestAutoRestart(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"true", fmt.Sprint(RestartAlways)}, {"YES", fmt.Sprint(RestartAlways)},
		{"false", fmt.Sprint(RestartNever)}, {"0", fmt.Sprint(RestartNever)},
		{"Unexpected", fmt.Sprint(RestartUnexpected)},
		{"sometimes", "error: invalid 'autorestart' value 'sometimes'"},
	} {
		if got := errText(parseAutoRestart(tc.in)); got != tc.want {
			t.Errorf("parseAutoRestart(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestLogLevel(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"wArN", "30"}, {"critical", "50"}, {"error", "40"}, {"info", "20"}, {"debug", "10"},
		{"trace", "5"}, {"blather", "3"},
		{"warning", "error: bad logging level name 'warning'"},
	} {
		if got := errText(parseLogLevel(tc.in)); got != tc.want {
			t.Errorf("parseLogLevel(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestSignal(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want syscall.Signal
		err  string
	}{
		{"TERM", syscall.SIGTERM, ""}, {"sigusr1", syscall.SIGUSR1, ""}, {" hup ", syscall.SIGHUP, ""},
		{"9", syscall.SIGKILL, ""}, {"15", syscall.SIGTERM, ""}, {"KILL", syscall.SIGKILL, ""},
		{"FOO", 0, "value 'FOO' is not a valid signal name"},
		{"1000", 0, "value '1000' is not a valid signal number"},
	} {
		got, err := parseSignal(tc.in)
		if tc.err != "" {
			if err == nil || err.Error() != tc.err {
				t.Errorf("parseSignal(%q) error = %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("parseSignal(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

func TestName(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"foo", "foo"}, {" foo ", "foo"}, {"test_öäü", "test_öäü"},
		{"a b", "error: Invalid name: 'a b' because of character: ' '"},
		{"a:b", "error: Invalid name: 'a:b' because of character: ':'"},
		{"a/b", "error: Invalid name: 'a/b' because of character: '/'"},
	} {
		if got := errText(checkName(tc.in)); got != tc.want {
			t.Errorf("checkName(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestPort(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"9001", " 9001"}, {"*:9001", " 9001"}, {":9001", " 9001"}, {"LocalHost:9001", "localhost 9001"},
		{"127.0.0.1:9001", "127.0.0.1 9001"}, {"2001:db8:ff:55:0:0:0:138:9001", "2001:db8:ff:55:0:0:0:138 9001"},
		{"a:", "error: no port number specified in ''"},
		{"a", "error: not a valid port number: 'a' "},
		{"host:abc", "error: invalid literal for int() with base 10: 'abc'"},
		{"host:70000", "error: 70000 is above upper bound (65535)"},
		{"0", "error: not a valid port number: '0' "},
	} {
		h, p, err := parsePort(tc.in)
		if got := errText(fmt.Sprintf("%s %d", h, p), err); got != tc.want {
			t.Errorf("parsePort(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestPaths(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		fn   func(string) (string, error)
		in   string
		want string
	}{
		{"dir", existingDirectory, dir, dir},
		{"dir", existingDirectory, "/nonexistent/x", "error: /nonexistent/x is not an existing directory"},
		{"dir", existingDirectory, file, "error: " + file + " is not an existing directory"},
		{"dirpath", existingDirpath, "foo", "foo"},
		{"dirpath", existingDirpath, file, file},
		{"dirpath", existingDirpath, "/nonexistent/x.log", "error: The directory named as part of the path /nonexistent/x.log does not exist"},
	} {
		if got := errText(tc.fn(tc.in)); got != tc.want {
			t.Errorf("%s(%q) = %s, want %s", tc.name, tc.in, got, tc.want)
		}
	}
}

func TestExpandUser(t *testing.T) {
	t.Setenv("HOME", "/home/me/")
	root, _ := lookupUID("root")
	for _, tc := range []struct{ in, want string }{
		{"~", "/home/me"}, {"~/x", "/home/me/x"}, {"~root/x", root.HomeDir + "/x"}, {"~root", root.HomeDir},
		{"~nosuchuserxyz/x", "~nosuchuserxyz/x"}, {"a/~", "a/~"}, {"/abs", "/abs"},
	} {
		if got := expandUser(tc.in); got != tc.want {
			t.Errorf("expandUser(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestUsers(t *testing.T) {
	u, err := lookupUID("root")
	if err != nil || u.Uid != "0" {
		t.Fatalf("lookupUID(root) = %v, %v", u, err)
	}
	if u, err := lookupUID("0"); err != nil || u.Username != "root" {
		t.Fatalf("lookupUID(0) = %v, %v", u, err)
	}
	for _, tc := range []struct{ in, want string }{
		{"godihopethisuserdoesntexist", "Invalid user name godihopethisuserdoesntexist"},
		{"99999", "Invalid user id 99999"},
	} {
		if _, err := lookupUID(tc.in); err == nil || err.Error() != tc.want {
			t.Errorf("lookupUID(%q) error = %v, want %q", tc.in, err, tc.want)
		}
	}
	if uid, gid, err := userGroup("root:root"); err != nil || uid != 0 || gid != 0 {
		t.Errorf("userGroup(root:root) = %d %d %v", uid, gid, err)
	}
	if uid, gid, err := userGroup("root"); err != nil || uid != 0 || gid != -1 {
		t.Errorf("userGroup(root) = %d %d %v", uid, gid, err)
	}
	if _, _, err := userGroup("root:nosuchgroupxyz"); err == nil {
		t.Error("userGroup(root:nosuchgroupxyz) succeeded")
	}
}
