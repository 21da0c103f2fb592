package cli

import (
	"fmt"
	"io"
	"path/filepath"

	"github.com/drover/drover/internal/ctl"
	"github.com/drover/drover/internal/daemon"
	"github.com/drover/drover/internal/health"
	"github.com/drover/drover/internal/lint"
	"github.com/drover/drover/internal/version"
)

const usage = `drover -- a Supervisor-compatible process supervisor

Usage:
  drover daemon [supervisord options]   run the daemon (same as supervisord)
  drover ctl [supervisorctl options]    control it (same as supervisorctl)
  drover check [-c file]                lint the config for settings that lose jobs
  drover healthcheck [-c file] [--live] exit 0 if the daemon is ready (alive with --live), else 1
  drover version                        print the version
  drover help                           print this text

Installed as (or linked to) supervisord or supervisorctl, drover is that program.
`

// Main runs drover with the full argv (args[0] is the program name) and
// returns the exit status. By argv[0]'s base name: supervisord or
// supervisorctl; otherwise argv[1] selects daemon, ctl, version or help.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	switch filepath.Base(args[0]) {
	case "supervisord":
		return daemon.Main(args, stdout, stderr)
	case "supervisorctl":
		return ctl.Main(args[1:], stdin, stdout, stderr)
	}
	if len(args) < 2 {
		io.WriteString(stdout, usage)
		return 0
	}
	switch args[1] {
	case "daemon":
		return daemon.Main(append([]string{args[0] + " daemon"}, args[2:]...), stdout, stderr)
	case "ctl":
		return ctl.Main(args[2:], stdin, stdout, stderr)
	case "check":
		return lint.Main(args[2:], stdout, stderr)
	case "healthcheck":
		return health.Main(args[0], args[2:], stdout, stderr)
	case "version", "-v", "--version":
		fmt.Fprintf(stdout, "drover %s (supervisor %s)\n", version.Build, version.Supervisor)
		return 0
	case "help", "-h", "--help":
		io.WriteString(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "drover: unknown command %q\n%s", args[1], usage)
	return 2
}
