package daemon

import (
	"fmt"
	"github.com/drover/drover/internal/pyrepr"
	"strings"

	"github.com/drover/drover/internal/config"
)

// cliOptions is what supervisord's command line asked for (§8.3): the
// config file (-c) and the overrides config.Load applies and validates.
type cliOptions struct {
	ConfigFile string
	config.Overrides
}

// cliAction is what the command line asks supervisord to do.
type cliAction int

const (
	actionRun cliAction = iota
	actionHelp
	actionVersion
)

// cliOption is one supervisord option: its getopt form and the field it sets
// (nil for the -h/-?/-v actions).
type cliOption struct {
	optionSpec
	apply func(o *cliOptions, arg string)
}

func setString(field func(*cliOptions) **string) func(*cliOptions, string) {
	return func(o *cliOptions, arg string) { *field(o) = &arg }
}

func setFlag(field func(*cliOptions) *bool) func(*cliOptions, string) {
	return func(o *cliOptions, _ string) { *field(o) = true }
}

// cliOptionTable lists supervisord's options in Supervisor's order.
var cliOptionTable = []cliOption{
	{optionSpec{'h', "help", false}, nil},
	{optionSpec{'?', "", false}, nil},
	{optionSpec{'c', "configuration", true}, func(o *cliOptions, a string) { o.ConfigFile = a }},
	{optionSpec{'v', "version", false}, nil},
	{optionSpec{'n', "nodaemon", false}, setFlag(func(o *cliOptions) *bool { return &o.Nodaemon })},
	{optionSpec{'u', "user", true}, setString(func(o *cliOptions) **string { return &o.User })},
	{optionSpec{'m', "umask", true}, setString(func(o *cliOptions) **string { return &o.Umask })},
	{optionSpec{'d', "directory", true}, setString(func(o *cliOptions) **string { return &o.Directory })},
	{optionSpec{'l', "logfile", true}, setString(func(o *cliOptions) **string { return &o.Logfile })},
	{optionSpec{'y', "logfile_maxbytes", true}, setString(func(o *cliOptions) **string { return &o.LogfileMaxBytes })},
	{optionSpec{'z', "logfile_backups", true}, setString(func(o *cliOptions) **string { return &o.LogfileBackups })},
	{optionSpec{'e', "loglevel", true}, setString(func(o *cliOptions) **string { return &o.LogLevel })},
	{optionSpec{'j', "pidfile", true}, setString(func(o *cliOptions) **string { return &o.Pidfile })},
	{optionSpec{'i', "identifier", true}, setString(func(o *cliOptions) **string { return &o.Identifier })},
	{optionSpec{'q', "childlogdir", true}, setString(func(o *cliOptions) **string { return &o.ChildLogDir })},
	{optionSpec{'a', "minfds", true}, setString(func(o *cliOptions) **string { return &o.Minfds })},
	{optionSpec{0, "minprocs", true}, setString(func(o *cliOptions) **string { return &o.Minprocs })},
	{optionSpec{'k', "nocleanup", false}, setFlag(func(o *cliOptions) *bool { return &o.Nocleanup })},
	{optionSpec{'t', "strip_ansi", false}, setFlag(func(o *cliOptions) *bool { return &o.StripANSI })},
	// Accepted for compatibility; Drover has no Python profiler to run under.
	{optionSpec{0, "profile_options", true}, func(*cliOptions, string) {}},
	{optionSpec{'s', "silent", false}, setFlag(func(o *cliOptions) *bool { return &o.Silent })},
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
		opt.apply(o, p.arg)
		// An option given twice conflicts (profile_options sets nothing).
		// Values are validated by config.Load.
		if seen[p.spec] && opt.long != "profile_options" {
			return nil, actionRun, fmt.Errorf("conflicting command line option %s", pyrepr.Str(p.name))
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

// pyList renders words like Python's str() of a list of str.
func pyList(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = pyrepr.Str(w)
	}
	return "[" + strings.Join(q, ", ") + "]"
}
