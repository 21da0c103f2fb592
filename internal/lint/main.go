package lint

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/drover/drover/internal/config"
)

// Exit statuses of drover check.
const (
	ExitClean       = 0
	ExitFindings    = 1
	ExitConfigError = 2
)

const usage = `Usage: drover check [-c FILE]

Load a supervisord configuration as the daemon would and report what loses
or duplicates queue jobs, each finding with file:line, program and fix.

  -c, --configuration FILE   configuration file (default: supervisord's search path)
  -h, --help                 print this text

Exit status: 0 no problems (warnings allowed), 1 problems, 2 the configuration
does not load.
`

// Main runs drover check with its arguments (after "check") and returns the
// exit status.
func Main(args []string, stdout, stderr io.Writer) int {
	path, err := parseArgs(args)
	switch {
	case errors.Is(err, errHelp):
		io.WriteString(stdout, usage)
		return ExitClean
	case err != nil:
		fmt.Fprintf(stderr, "Error: %v\n%s", err, usage)
		return ExitConfigError
	}
	if path == "" {
		if path, err = config.FindConfigFile(os.Args[0]); err != nil {
			fmt.Fprintf(stderr, "Error: %v\n", err)
			return ExitConfigError
		}
	}
	cfg, err := config.Load(path, config.Overrides{})
	if err != nil {
		fmt.Fprintf(stderr, "Error: %v\n", err)
		return ExitConfigError
	}
	pos, err := config.ReadPositions(path, cfg.Included)
	if err != nil {
		fmt.Fprintf(stderr, "Error: read %s: %v\n", path, err)
		return ExitConfigError
	}
	problems, warnings := 0, 0
	for _, f := range Check(cfg, pos) {
		kind := ""
		if f.Warning {
			kind = "warning: "
			warnings++
		} else {
			problems++
		}
		fmt.Fprintf(stdout, "%s:%d: %s: %s%s\n    fix: %s\n", f.Pos.File, f.Pos.Line, f.Program, kind, f.Problem, f.Fix)
	}
	switch {
	case problems == 0 && warnings == 0:
		fmt.Fprintf(stdout, "%s: no problems found\n", path)
	case problems == 0:
		fmt.Fprintf(stdout, "%s: no problems found, %s\n", path, count(warnings, "warning"))
	case warnings == 0:
		fmt.Fprintf(stdout, "%s found\n", count(problems, "problem"))
	default:
		fmt.Fprintf(stdout, "%s and %s found\n", count(problems, "problem"), count(warnings, "warning"))
	}
	if problems > 0 {
		return ExitFindings
	}
	return ExitClean
}

// count is "1 problem", "2 problems".
func count(n int, noun string) string {
	if n != 1 {
		noun += "s"
	}
	return fmt.Sprintf("%d %s", n, noun)
}

var errHelp = errors.New("help")

// parseArgs reads -c FILE, -cFILE, --configuration FILE and --configuration=FILE.
func parseArgs(args []string) (string, error) {
	var path string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-h" || a == "--help":
			return "", errHelp
		case a == "-c" || a == "--configuration":
			if i+1 == len(args) {
				return "", fmt.Errorf("option %s requires argument", a)
			}
			i++
			path = args[i]
		case strings.HasPrefix(a, "--configuration="):
			path = strings.TrimPrefix(a, "--configuration=")
		case strings.HasPrefix(a, "-c") && len(a) > 2:
			path = a[2:]
		default:
			return "", fmt.Errorf("unexpected argument %s", a)
		}
	}
	return path, nil
}
