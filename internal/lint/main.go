package lint

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/drover/drover/internal/config"
)

// Exit statuses of drover check.
const (
	ExitClean       = 0
	ExitFindings    = 1
	ExitConfigError = 2
)

const usage = `Usage: drover check [-c FILE] [--grace DURATION]

Load a supervisord configuration as the daemon would and report what loses
or duplicates queue jobs, each finding with file:line, program and fix.

  -c, --configuration FILE   configuration file (default: supervisord's search path)
  --grace DURATION           also report what cannot stop within a container's
                             grace period after SIGTERM (30s, 1m, or seconds)
  -h, --help                 print this text

Exit status: 0 no problems (warnings allowed), 1 problems, 2 the configuration
does not load.
`

// Main runs drover check with its arguments (after "check") and returns the
// exit status.
func Main(args []string, stdout, stderr io.Writer) int {
	path, grace, err := parseArgs(args)
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
	findings := Check(cfg, pos)
	if grace > 0 {
		findings = sortFindings(cfg, append(findings, CheckGrace(cfg, pos, grace)...))
	}
	for _, f := range findings {
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

// parseArgs reads -c FILE, -cFILE, --configuration FILE and
// --configuration=FILE, and --grace D or --grace=D.
func parseArgs(args []string) (path string, grace time.Duration, err error) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-h" || a == "--help":
			return "", 0, errHelp
		case a == "-c" || a == "--configuration" || a == "--grace":
			if i+1 == len(args) {
				return "", 0, fmt.Errorf("option %s requires argument", a)
			}
			i++
			if a == "--grace" {
				if grace, err = parseGrace(args[i]); err != nil {
					return "", 0, err
				}
				continue
			}
			path = args[i]
		case strings.HasPrefix(a, "--grace="):
			if grace, err = parseGrace(strings.TrimPrefix(a, "--grace=")); err != nil {
				return "", 0, err
			}
		case strings.HasPrefix(a, "--configuration="):
			path = strings.TrimPrefix(a, "--configuration=")
		case strings.HasPrefix(a, "-c") && len(a) > 2:
			path = a[2:]
		default:
			return "", 0, fmt.Errorf("unexpected argument %s", a)
		}
	}
	return path, grace, nil
}

// parseGrace reads a grace period: a Go duration (30s, 1m) or seconds.
func parseGrace(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		n, nerr := strconv.Atoi(s)
		d, err = time.Duration(n)*time.Second, nerr
	}
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("--grace wants a positive duration such as 30s, not %q", s)
	}
	return d, nil
}
