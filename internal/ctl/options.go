package ctl

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/pyrepr"
)

// usageText is supervisorctl's -h output; %s is the program name.
const usageText = `supervisorctl -- control applications run by supervisord from the cmd line.

Usage: %s [options] [action [arguments]]

Options:
-c/--configuration FILENAME -- configuration file path (searches if not given)
-h/--help -- print usage message and exit
-i/--interactive -- start an interactive shell after executing commands
-s/--serverurl URL -- URL on which supervisord server is listening
     (default "http://localhost:9001").
-u/--username USERNAME -- username to use for authentication with server
-p/--password PASSWORD -- password to use for authentication with server
-r/--history-file -- keep a readline history (if readline is available)

action [arguments] -- see below

Actions are commands like "tail" or "stop".  If -i is specified or no action is
specified on the command line, a "shell" interpreting actions typed
interactively is started.  Use the action "help" to find out about available
actions.

`

// settings are the resolved client options: command line over
// [supervisorctl] over defaults.
type settings struct {
	serverURL   string
	username    string
	password    string
	prompt      string
	historyFile string
	interactive bool
	args        []string // the action words
}

const noCtlSection = ".ini file does not include supervisorctl section"

// usageError is an option problem: printed as "Error: <msg>" plus the
// "For help" hint on stderr, exit 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// errHelp means -h/-? was given: usage text on stdout, exit 0.
var errHelp = errors.New("help requested")

// optionSpec describes one getopt option.
type optionSpec struct {
	short   byte   // 0 if none
	long    string // "" if none
	hasArg  bool
	setting string // key into the parsed map; "help" for -h/-?
}

var optionSpecs = []optionSpec{
	{'h', "help", false, "help"},
	{'?', "", false, "help"},
	{'c', "configuration", true, "configfile"},
	{'i', "interactive", false, "interactive"},
	{'s', "serverurl", true, "serverurl"},
	{'u', "username", true, "username"},
	{'p', "password", true, "password"},
	{'r', "history_file", true, "history"},
}

// parsedOpt is one option occurrence in command-line order.
type parsedOpt struct {
	spec *optionSpec
	name string // as written: "-s" or "--serverurl"
	arg  string
}

// getopt splits args like Python's getopt.getopt: options stop at the first
// non-option word or after "--"; long options accept unique prefixes.
func getopt(args []string) ([]parsedOpt, []string, error) {
	var opts []parsedOpt
	for len(args) > 0 && strings.HasPrefix(args[0], "-") && args[0] != "-" {
		if args[0] == "--" {
			return opts, args[1:], nil
		}
		if strings.HasPrefix(args[0], "--") {
			o, rest, err := longOpt(args[0][2:], args[1:])
			if err != nil {
				return nil, nil, err
			}
			opts, args = append(opts, o), rest
			continue
		}
		word := args[0][1:]
		args = args[1:]
		for word != "" {
			spec := findShort(word[0])
			if spec == nil {
				return nil, nil, &usageError{fmt.Sprintf("option -%c not recognized", word[0])}
			}
			o := parsedOpt{spec: spec, name: "-" + string(word[0])}
			word = word[1:]
			if spec.hasArg {
				if word == "" {
					if len(args) == 0 {
						return nil, nil, &usageError{fmt.Sprintf("option %s requires argument", o.name)}
					}
					word, args = args[0], args[1:]
				}
				o.arg, word = word, ""
			}
			opts = append(opts, o)
		}
	}
	return opts, args, nil
}

func findShort(c byte) *optionSpec {
	for i := range optionSpecs {
		if optionSpecs[i].short == c {
			return &optionSpecs[i]
		}
	}
	return nil
}

func longOpt(word string, rest []string) (parsedOpt, []string, error) {
	name, arg, hasValue := strings.Cut(word, "=")
	if rest, ok := strings.CutPrefix(name, "history-"); ok {
		name = "history_" + rest // --history-file, as the usage text spells it
	}
	var matches []*optionSpec
	for i := range optionSpecs {
		s := &optionSpecs[i]
		if s.long == "" || !strings.HasPrefix(s.long, name) {
			continue
		}
		if s.long == name {
			matches = []*optionSpec{s}
			break
		}
		matches = append(matches, s)
	}
	switch {
	case len(matches) == 0:
		return parsedOpt{}, nil, &usageError{fmt.Sprintf("option --%s not recognized", name)}
	case len(matches) > 1:
		return parsedOpt{}, nil, &usageError{fmt.Sprintf("option --%s not a unique prefix", name)}
	}
	spec := matches[0]
	o := parsedOpt{spec: spec, name: "--" + spec.long}
	if spec.hasArg {
		if !hasValue {
			if len(rest) == 0 {
				return parsedOpt{}, nil, &usageError{fmt.Sprintf("option %s requires argument", o.name)}
			}
			arg, rest = rest[0], rest[1:]
		}
		o.arg = arg
	} else if hasValue {
		return parsedOpt{}, nil, &usageError{fmt.Sprintf("option %s must not have an argument", o.name)}
	}
	return o, rest, nil
}

// validURL mirrors supervisor.datatypes.url: a scheme and a netloc or path.
func validURL(v string) bool {
	scheme, rest, ok := strings.Cut(v, ":")
	if !ok || scheme == "" || !isAlpha(scheme[0]) {
		return false
	}
	for i := 0; i < len(scheme); i++ {
		c := scheme[i]
		if !isAlpha(c) && !(c >= '0' && c <= '9') && c != '+' && c != '-' && c != '.' {
			return false
		}
	}
	return strings.TrimPrefix(rest, "//") != ""
}

func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// parseSettings turns argv (without argv[0]) into settings, reading the
// config file named by -c or found by the default search from argv0.
func parseSettings(argv0 string, args []string) (*settings, error) {
	opts, rest, err := getopt(args)
	if err != nil {
		return nil, err
	}
	given := map[string]string{}
	for _, o := range opts {
		if o.spec.setting == "help" {
			return nil, errHelp
		}
		if o.spec.setting == "serverurl" && !validURL(o.arg) {
			return nil, &usageError{fmt.Sprintf("invalid value for %s %s: value %s is not a URL", o.name, pyrepr.Str(o.arg), pyrepr.Str(o.arg))}
		}
		if _, dup := given[o.spec.setting]; dup {
			return nil, &usageError{fmt.Sprintf("conflicting command line option %s", pyrepr.Str(o.name))}
		}
		given[o.spec.setting] = o.arg
	}
	s := &settings{serverURL: "http://localhost:9001", prompt: "supervisor", args: rest}
	path, explicit := given["configfile"]
	if !explicit {
		path, _ = config.FindConfigFile(argv0) // no file is fine for supervisorctl
	}
	if path != "" {
		if _, err := os.Stat(path); explicit && err != nil {
			return nil, &usageError{"could not find config file " + path}
		}
		sec, _, err := config.LoadCtl(path)
		var ce *config.Error
		if errors.As(err, &ce) && ce.Msg == noCtlSection {
			return nil, &usageError{noCtlSection} // Supervisor prints it without location
		}
		if err != nil {
			return nil, &usageError{err.Error()}
		}
		s.serverURL, s.username, s.password = sec.ServerURL, sec.Username, sec.Password
		s.prompt, s.historyFile = sec.Prompt, sec.HistoryFile
	}
	for key, dst := range map[string]*string{"serverurl": &s.serverURL, "username": &s.username,
		"password": &s.password, "history": &s.historyFile} {
		if v, ok := given[key]; ok {
			*dst = v
		}
	}
	_, s.interactive = given["interactive"]
	if len(rest) == 0 {
		s.interactive = true
	}
	return s, nil
}
