// Command drover is a drop-in replacement for Supervisor 4.2.5. Run through
// a link named supervisord or supervisorctl it is that program; otherwise
// `drover daemon ...` and `drover ctl ...` select one.
package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/drover/drover/internal/ctl"
	"github.com/drover/drover/internal/daemon"
	"github.com/drover/drover/internal/version"
)

const usage = `drover -- a Supervisor-compatible process supervisor

Usage:
  drover daemon [supervisord options]   run the daemon (same as supervisord)
  drover ctl [supervisorctl options]    control it (same as supervisorctl)
  drover version                        print the version
  drover help                           print this text

Installed as (or linked to) supervisord or supervisorctl, drover is that program.
`

func main() { os.Exit(run(os.Args, os.Stdin, os.Stdout, os.Stderr)) }

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
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
