package config

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"unicode"

	"github.com/drover/drover/internal/pyrepr"
	"github.com/drover/drover/internal/sysnames"
)

// The converters below are Supervisor's datatypes.py value types; their
// error texts are Supervisor's.

// pyInt is Python's int(): surrounding whitespace, a sign and underscores
// between digits are accepted.
func pyInt(s string) (int, error) {
	return pyIntBase(s, 10)
}

func pyIntBase(s string, base int) (int, error) {
	t := strings.TrimSpace(s)
	body := strings.TrimLeft(t, "+-")
	if len(t)-len(body) > 1 || body == "" || strings.HasPrefix(body, "_") || strings.HasSuffix(body, "_") || strings.Contains(body, "__") {
		return 0, invalidLiteral(s, base)
	}
	prefixed := t
	if base == 8 {
		lower := strings.ToLower(body)
		if strings.HasPrefix(lower, "0o") {
			prefixed = t[:len(t)-len(body)] + body[2:]
			if strings.HasPrefix(body[2:], "_") {
				prefixed = t[:len(t)-len(body)] + body[3:]
			}
		}
	}
	n, err := strconv.ParseInt(strings.ReplaceAll(prefixed, "_", ""), base, 64)
	if err != nil {
		if errors.Is(err, strconv.ErrRange) {
			return 0, fmt.Errorf("integer out of range: %s", s)
		}
		return 0, invalidLiteral(s, base)
	}
	return int(n), nil
}

func invalidLiteral(s string, base int) error {
	return fmt.Errorf("invalid literal for int() with base %d: %s", base, pyrepr.Str(s))
}

var truthy = []string{"yes", "true", "on", "1"}
var falsy = []string{"no", "false", "off", "0"}

func parseBool(s string) (bool, error) {
	l := strings.ToLower(s)
	for _, t := range truthy {
		if l == t {
			return true, nil
		}
	}
	for _, f := range falsy {
		if l == f {
			return false, nil
		}
	}
	return false, fmt.Errorf("not a valid boolean value: %s", pyrepr.Str(s))
}

// parseByteSize accepts an int with an optional KB/MB/GB suffix (1024-based).
func parseByteSize(s string) (int64, error) {
	l := strings.ToLower(s)
	mult := int64(1)
	for suffix, m := range map[string]int64{"kb": 1 << 10, "mb": 1 << 20, "gb": 1 << 30} {
		if strings.HasSuffix(l, suffix) {
			l, mult = l[:len(l)-2], m
			break
		}
	}
	n, err := pyInt(l)
	if err != nil {
		return 0, err
	}
	return int64(n) * mult, nil
}

func parseOctal(s string) (int, error) {
	n, err := pyIntBase(s, 8)
	if err != nil {
		return 0, fmt.Errorf("%s can not be converted to an octal type", s)
	}
	return n, nil
}

func parseStringList(s string) []string {
	if s == "" {
		return nil
	}
	parts := strings.Split(s, ",")
	for i, p := range parts {
		parts[i] = strings.TrimSpace(p)
	}
	return parts
}

func parseExitCodes(s string) ([]int, error) {
	if s == "" {
		return []int{}, nil
	}
	var out []int
	for _, p := range strings.Split(s, ",") {
		n, err := pyInt(p)
		if err != nil || n < 0 || n > 255 {
			return nil, fmt.Errorf("not a valid list of exit codes: %s", pyrepr.Str(s))
		}
		out = append(out, n)
	}
	return out, nil
}

func parseAutoRestart(s string) (AutoRestart, error) {
	l := strings.ToLower(s)
	if l == "unexpected" {
		return RestartUnexpected, nil
	}
	if b, err := parseBool(l); err == nil {
		if b {
			return RestartAlways, nil
		}
		return RestartNever, nil
	}
	return 0, fmt.Errorf("invalid 'autorestart' value %s", pyrepr.Str(l))
}

var levelNames = map[string]LogLevel{
	"critical": LevelCritical, "error": LevelError, "warn": LevelWarn, "info": LevelInfo,
	"debug": LevelDebug, "trace": LevelTrace, "blather": LevelBlather,
}

func parseLogLevel(s string) (LogLevel, error) {
	if l, ok := levelNames[strings.ToLower(s)]; ok {
		return l, nil
	}
	return 0, fmt.Errorf("bad logging level name %s", pyrepr.Str(s))
}

// parseSignal accepts a number or a name with or without the SIG prefix.
// Python's signal module also exposes SIG_DFL (0), SIG_IGN (1) and
// SIG_BLOCK..SIG_SETMASK (0..2) as SIG* names, so 0-2 pass as "numbers".
func parseSignal(s string) (syscall.Signal, error) {
	n, err := pyInt(s)
	if err != nil {
		name := strings.ToUpper(strings.TrimSpace(s))
		if !strings.HasPrefix(name, "SIG") {
			name = "SIG" + name
		}
		sig, ok := sysnames.Signals[name]
		if !ok {
			switch name {
			case "SIG_DFL", "SIG_BLOCK":
				return 0, nil
			case "SIG_IGN", "SIG_UNBLOCK":
				return 1, nil
			case "SIG_SETMASK":
				return 2, nil
			}
			return 0, fmt.Errorf("value %s is not a valid signal name", pyrepr.Str(s))
		}
		return sig, nil
	}
	if n <= 2 && n >= 0 {
		return syscall.Signal(n), nil
	}
	for _, sig := range sysnames.Signals {
		if int(sig) == n {
			return sig, nil
		}
	}
	return 0, fmt.Errorf("value %s is not a valid signal number", pyrepr.Str(s))
}

// checkName validates a process or group name.
func checkName(name string) (string, error) {
	s := strings.TrimFunc(name, unicode.IsSpace)
	for _, c := range []string{" ", ":", "/"} {
		if strings.Contains(s, c) {
			return "", fmt.Errorf("Invalid name: %s because of character: %s", pyrepr.Str(name), pyrepr.Str(c))
		}
	}
	return s, nil
}

// expandUser is Python's os.path.expanduser: "~" and "~/x" use $HOME,
// "~name/x" the home directory of user name; anything else is unchanged.
func expandUser(p string) string {
	if !strings.HasPrefix(p, "~") {
		return p
	}
	i := strings.IndexByte(p, '/')
	if i < 0 {
		i = len(p)
	}
	name := p[1:i]
	var home string
	if name == "" {
		home = os.Getenv("HOME")
		if home == "" {
			if u, err := user.Current(); err == nil {
				home = u.HomeDir
			}
		}
	} else if u, err := user.Lookup(name); err == nil {
		home = u.HomeDir
	}
	if home == "" {
		return p
	}
	if out := strings.TrimRight(home, "/") + p[i:]; out != "" {
		return out
	}
	return "/"
}

func existingDirectory(v string) (string, error) {
	nv := expandUser(v)
	if fi, err := os.Stat(nv); err == nil && fi.IsDir() {
		return nv, nil
	}
	return "", fmt.Errorf("%s is not an existing directory", v)
}

func existingDirpath(v string) (string, error) {
	nv := expandUser(v)
	dir := filepath.Dir(nv)
	if !strings.Contains(nv, "/") {
		return nv, nil
	}
	if fi, err := os.Stat(dir); err == nil && fi.IsDir() {
		return nv, nil
	}
	return "", fmt.Errorf("The directory named as part of the path %s does not exist", v)
}

// normalizePath is Python's normpath(abspath(expanduser(p))).
func normalizePath(p string) string {
	abs, err := filepath.Abs(expandUser(p))
	if err != nil {
		return filepath.Clean(p)
	}
	return abs
}

// lookupUID resolves a user name or numeric uid that must exist.
func lookupUID(name string) (*user.User, error) {
	if _, err := pyInt(name); err == nil {
		u, err := user.LookupId(strings.TrimSpace(name))
		if err != nil {
			return nil, fmt.Errorf("Invalid user id %s", name)
		}
		return u, nil
	}
	u, err := user.Lookup(name)
	if err != nil {
		return nil, fmt.Errorf("Invalid user name %s", name)
	}
	return u, nil
}

func lookupGID(name string) (int, error) {
	if n, err := pyInt(name); err == nil {
		if _, err := user.LookupGroupId(strconv.Itoa(n)); err != nil {
			return 0, fmt.Errorf("Invalid group id %s", name)
		}
		return n, nil
	}
	g, err := user.LookupGroup(name)
	if err != nil {
		return 0, fmt.Errorf("Invalid group name %s", name)
	}
	return strconv.Atoi(g.Gid)
}

// userGroup parses `user` or `user:group` into (uid, gid); gid is -1 when
// only a user is given.
func userGroup(arg string) (int, int, error) {
	u, g, hasGroup := strings.Cut(arg, ":")
	usr, err := lookupUID(u)
	if err != nil {
		return 0, 0, err
	}
	uid, _ := strconv.Atoi(usr.Uid)
	gid := -1
	if hasGroup {
		if gid, err = lookupGID(g); err != nil {
			return 0, 0, err
		}
	}
	return uid, gid, nil
}

// parsePort is Supervisor's inet_address: `port`, `host:port`, `:port`, `*:port`.
func parsePort(s string) (string, int, error) {
	host, port, hasHost := "", s, false
	if i := strings.LastIndex(s, ":"); i >= 0 {
		host, port, hasHost = strings.ToLower(s[:i]), s[i+1:], true
		if port == "" {
			return "", 0, fmt.Errorf("no port number specified in %s", pyrepr.Str(port))
		}
	}
	n, err := portNumber(port)
	if err != nil {
		if !hasHost {
			return "", 0, fmt.Errorf("not a valid port number: %s ", pyrepr.Str(s))
		}
		return "", 0, err
	}
	if host == "*" {
		host = ""
	}
	return host, n, nil
}

// portNumber is an int in 1..65535 with Supervisor's range-check texts.
func portNumber(s string) (int, error) {
	n, err := pyInt(s)
	switch {
	case err != nil:
		return 0, err
	case n < 1:
		return 0, fmt.Errorf("%d is below lower bound (1)", n)
	case n > 0xffff:
		return 0, fmt.Errorf("%d is above upper bound (65535)", n)
	}
	return n, nil
}
