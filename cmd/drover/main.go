// Command drover is a drop-in replacement for Supervisor 4.2.5. Run through
// a link named supervisord or supervisorctl it is that program; otherwise
// `drover daemon ...` and `drover ctl ...` select one.
package main

import (
	"os"

	"github.com/drover/drover/internal/cli"
)

func main() { os.Exit(cli.Main(os.Args, os.Stdin, os.Stdout, os.Stderr)) }
