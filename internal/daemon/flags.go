package daemon

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/drover/drover/internal/config"
)

// cliOptions is what supervisord's command line asked for (§8.3). Pointer
// fields are nil when the option was not given, so the config file's value
// (or Supervisor's default) applies.
type cliOptions struct {
	ConfigFile string

	Nodaemon, Silent, Nocleanup, StripANSI bool

	User            *string
	Umask           *int
	Directory       *string
	Logfile         *string
	LogfileMaxBytes *int64
	LogfileBackups  *int
	LogLevel        *config.LogLevel
	Pidfile         *string
	Identifier      *string
	ChildLogDir     *string
	Minfds          *int
	Minprocs        *int
}

// cliAction is what the command line asks supervisord to do.
type cliAction int

const (
	actionRun cliAction = iota
	actionHelp
	actionVersion
)

// cliOption is one supervisord option: its getopt form and what it sets.
// apply returns a ValueError-like message for a bad value.
type cliOption struct {
	optionSpec
	apply func(o *cliOptions, arg string) error
}

// cliOptionTable lists supervisord's options in Supervisor's order.
// -h/-?/-v have a nil apply: they are actions.
var cliOptionTable = []cliOption{
	{optionSpec{'h', "help", false}, nil},
	{optionSpec{'?', "", false}, nil},
	{optionSpec{'c', "configuration", true}, func(o *cliOptions, a string) error { o.ConfigFile = a; return nil }},
	{optionSpec{'v', "version", false}, nil},
	{optionSpec{'n', "nodaemon", false}, func(o *cliOptions, _ string) error { o.Nodaemon = true; return nil }},
	{optionSpec{'u', "user", true}, func(o *cliOptions, a string) error { o.User = &a; return nil }},
	{optionSpec{'m', "umask", true}, func(o *cliOptions, a string) error {
		v, err := parseOctal(a)
		o.Umask = &v
		return err
	}},
	{optionSpec{'d', "directory", true}, func(o *cliOptions, a string) error {
		v, err := existingDirectory(a)
		o.Directory = &v
		return err
	}},
	{optionSpec{'l', "logfile", true}, func(o *cliOptions, a string) error {
		v, err := existingDirpath(a)
		o.Logfile = &v
		return err
	}},
	{optionSpec{'y', "logfile_maxbytes", true}, func(o *cliOptions, a string) error {
		v, err := parseByteSize(a)
		o.LogfileMaxBytes = &v
		return err
	}},
	{optionSpec{'z', "logfile_backups", true}, func(o *cliOptions, a string) error {
		v, err := parsePyInt(a)
		o.LogfileBackups = &v
		return err
	}},
	{optionSpec{'e', "loglevel", true}, func(o *cliOptions, a string) error {
		v, err := parseLogLevel(a)
		o.LogLevel = &v
		return err
	}},
	{optionSpec{'j', "pidfile", true}, func(o *cliOptions, a string) error {
		v, err := existingDirpath(a)
		o.Pidfile = &v
		return err
	}},
	{optionSpec{'i', "identifier", true}, func(o *cliOptions, a string) error { o.Identifier = &a; return nil }},
	{optionSpec{'q', "childlogdir", true}, func(o *cliOptions, a string) error {
		v, err := existingDirectory(a)
		o.ChildLogDir = &v
		return err
	}},
	{optionSpec{'a', "minfds", true}, func(o *cliOptions, a string) error {
		v, err := parsePyInt(a)
		o.Minfds = &v
		return err
	}},
	{optionSpec{0, "minprocs", true}, func(o *cliOptions, a string) error {
		v, err := parsePyInt(a)
		o.Minprocs = &v
		return err
	}},
	{optionSpec{'k', "nocleanup", false}, func(o *cliOptions, _ string) error { o.Nocleanup = true; return nil }},
	{optionSpec{'t', "strip_ansi", false}, func(o *cliOptions, _ string) error { o.StripANSI = true; return nil }},
	// Accepted for compatibility; Drover has no Python profiler to run under.
	{optionSpec{0, "profile_options", true}, func(*cliOptions, string) error { return nil }},
	{optionSpec{'s', "silent", false}, func(o *cliOptions, _ string) error { o.Silent = true; return nil }},
}

// parseFlags parses supervisord's arguments (without argv[0]). Options are
// handled in order, as Supervisor does: -h or -v wins over any later error.
// Errors carry Supervisor's text, to be printed after "Error: ".
func parseFlags(args []string) (*cliOptions, cliAction, error) {
	specs := make([]optionSpec, len(cliOptionTable))
	for i, o := range cliOptionTable {
		specs[i] = o.optionSpec
	}
	parsed, rest, err := getopt(args, specs)
	if err != nil {
		return nil, actionRun, err
	}
	if len(rest) > 0 {
		return nil, actionRun, fmt.Errorf("positional arguments are not supported: %s", pyList(rest))
	}
	o := &cliOptions{}
	seen := map[*optionSpec]bool{}
	for _, p := range parsed {
		opt := &cliOptionTable[indexOfSpec(specs, p.spec)]
		switch {
		case opt.short == 'h' || opt.short == '?':
			return nil, actionHelp, nil
		case opt.short == 'v':
			return nil, actionVersion, nil
		}
		if err := opt.apply(o, p.arg); err != nil {
			return nil, actionRun, fmt.Errorf("invalid value for %s %s: %w", p.name, pyRepr(p.arg), err)
		}
		// A name given twice conflicts (profile_options sets nothing).
		if seen[p.spec] && opt.long != "profile_options" {
			return nil, actionRun, fmt.Errorf("conflicting command line option %s", pyRepr(p.name))
		}
		seen[p.spec] = true
	}
	return o, actionRun, nil
}

func indexOfSpec(specs []optionSpec, s *optionSpec) int {
	for i := range specs {
		if &specs[i] == s {
			return i
		}
	}
	panic("daemon: getopt returned an unknown option")
}

// parsePyInt parses like Python's int(): surrounding whitespace, a sign
// and underscores between digits are allowed.
func parsePyInt(s string) (int, error) {
	t := strings.TrimSpace(s)
	digits := strings.TrimLeft(t, "+-")
	if digits != "" && !strings.HasPrefix(digits, "_") && !strings.HasSuffix(digits, "_") && !strings.Contains(digits, "__") {
		if n, err := strconv.Atoi(strings.ReplaceAll(t, "_", "")); err == nil {
			return n, nil
		}
	}
	return 0, fmt.Errorf("invalid literal for int() with base 10: %s", pyRepr(s))
}

// parseByteSize parses Supervisor's byte_size: an integer with an optional
// kb/mb/gb suffix, case-insensitive.
func parseByteSize(s string) (int64, error) {
	v := strings.ToLower(s)
	mult := int64(1)
	for suffix, m := range map[string]int64{"kb": 1 << 10, "mb": 1 << 20, "gb": 1 << 30} {
		if strings.HasSuffix(v, suffix) {
			v, mult = strings.TrimSuffix(v, suffix), m
			break
		}
	}
	n, err := parsePyInt(v)
	return int64(n) * mult, err
}

func parseOctal(s string) (int, error) {
	t := strings.TrimSpace(s)
	if len(t) > 2 && (t[:2] == "0o" || t[:2] == "0O") {
		t = t[2:]
	}
	n, err := strconv.ParseInt(strings.ReplaceAll(t, "_", ""), 8, 64)
	if err != nil {
		return 0, fmt.Errorf("%s can not be converted to an octal type", s)
	}
	return int(n), nil
}

var logLevelNames = map[string]config.LogLevel{
	"critical": config.LevelCritical,
	"error":    config.LevelError,
	"warn":     config.LevelWarn,
	"info":     config.LevelInfo,
	"debug":    config.LevelDebug,
	"trace":    config.LevelTrace,
	"blather":  config.LevelBlather,
}

func parseLogLevel(s string) (config.LogLevel, error) {
	if l, ok := logLevelNames[strings.ToLower(s)]; ok {
		return l, nil
	}
	return 0, fmt.Errorf("bad logging level name %s", pyRepr(s))
}

// existingDirectory checks that s names a directory; the result is absolute,
// so a later chdir (daemonizing, reloads) does not change its meaning.
func existingDirectory(s string) (string, error) {
	p := expandUser(s)
	if fi, err := os.Stat(p); err != nil || !fi.IsDir() {
		return "", fmt.Errorf("%s is not an existing directory", s)
	}
	return filepath.Abs(p)
}

// existingDirpath checks that the directory part of s exists; the result is absolute.
func existingDirpath(s string) (string, error) {
	p := expandUser(s)
	if dir := filepath.Dir(p); strings.ContainsRune(p, '/') {
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			return "", fmt.Errorf("The directory named as part of the path %s does not exist", s)
		}
	}
	return filepath.Abs(p)
}

// expandUser expands a leading "~" or "~/" to $HOME, as os.path.expanduser does.
func expandUser(p string) string {
	home := os.Getenv("HOME")
	if home == "" || (p != "~" && !strings.HasPrefix(p, "~/")) {
		return p
	}
	return home + p[1:]
}

// pyList renders words like Python's str() of a list of str.
func pyList(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = pyRepr(w)
	}
	return "[" + strings.Join(q, ", ") + "]"
}
