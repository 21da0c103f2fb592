package main

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
)

// program is one generated [program:x] section.
type program struct {
	Name        string
	Command     string
	Autostart   bool
	Startsecs   int
	Autorestart string // "true", "false" or "unexpected"
	// StdoutLogfile is left to Supervisor's default (AUTO) when empty.
	StdoutLogfile  string
	StdoutMaxbytes string // e.g. "50MB"; default when empty
	StdoutBackups  int    // default when zero
	// RedirectStderr sends stderr into stdout's pipe and log: one pipe
	// and one log file fewer per program.
	RedirectStderr bool
}

// benchConfig is a generated supervisord configuration rooted in Dir.
type benchConfig struct {
	Dir string
	// LogDir holds the programs' log files; empty means Dir/log.
	LogDir   string
	Programs []program
	// Extra is appended to the configuration as is (further sections).
	Extra string
}

func (c benchConfig) socket() string { return filepath.Join(c.Dir, "s.sock") }
func (c benchConfig) file() string   { return filepath.Join(c.Dir, "supervisord.conf") }
func (c benchConfig) logDir() string {
	if c.LogDir != "" {
		return c.LogDir
	}
	return filepath.Join(c.Dir, "log")
}
func (c benchConfig) childDir() string { return filepath.Join(c.Dir, "child") }

// render returns the configuration text. Both daemons read the same file.
func (c benchConfig) render() string {
	var b strings.Builder
	fmt.Fprintf(&b, "[unix_http_server]\nfile=%s\n\n", c.socket())
	fmt.Fprintf(&b, "[supervisord]\nlogfile=%s\npidfile=%s\nchildlogdir=%s\n",
		filepath.Join(c.Dir, "supervisord.log"), filepath.Join(c.Dir, "supervisord.pid"), c.childDir())
	fmt.Fprintf(&b, "nodaemon=true\nloglevel=info\nminfds=%d\n\n", fdsFor(len(c.Programs)))
	b.WriteString("[rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\n")
	fmt.Fprintf(&b, "[supervisorctl]\nserverurl=unix://%s\n", c.socket())
	b.WriteString(c.Extra)
	for _, p := range c.Programs {
		fmt.Fprintf(&b, "\n[program:%s]\ncommand=%s\nautostart=%t\nstartsecs=%d\n", p.Name, p.Command, p.Autostart, p.Startsecs)
		if p.Autorestart != "" {
			fmt.Fprintf(&b, "autorestart=%s\n", p.Autorestart)
		}
		if p.StdoutLogfile != "" {
			fmt.Fprintf(&b, "stdout_logfile=%s\n", p.StdoutLogfile)
		}
		if p.StdoutMaxbytes != "" {
			fmt.Fprintf(&b, "stdout_logfile_maxbytes=%s\n", p.StdoutMaxbytes)
		}
		if p.StdoutBackups != 0 {
			fmt.Fprintf(&b, "stdout_logfile_backups=%d\n", p.StdoutBackups)
		}
		if p.RedirectStderr {
			b.WriteString("redirect_stderr=true\n")
		}
	}
	return b.String()
}

// fdsFor is the minfds of a configuration with n programs: each child
// holds three pipes in the daemon and two log files. It never asks beyond
// fdCeiling, since a daemon refuses to start when minfds is above a limit
// it cannot raise.
func fdsFor(n int) int { return min(max(1024, 8*n+256), fdCeiling) }

// fdCeiling is the RLIMIT_NOFILE the daemons inherit (see raiseFDLimit).
var fdCeiling = math.MaxInt

// write creates the directories the configuration names and the file itself.
func (c benchConfig) write() error {
	for _, d := range []string{c.Dir, c.logDir(), c.childDir()} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("create config dir: %w", err)
		}
	}
	if err := os.WriteFile(c.file(), []byte(c.render()), 0o644); err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	return nil
}

// programName is the name of the i-th generated program; zero padding keeps
// name order equal to number order, so the last program starts last.
func programName(i int) string { return fmt.Sprintf("p%04d", i) }

// sleepers returns n programs running sleep(1) for a long time.
func sleepers(n int, sleepBin string, startsecs int, autorestart string) []program {
	ps := make([]program, n)
	for i := range ps {
		ps[i] = program{Name: programName(i), Command: strings.Join(sleeperArgv(sleepBin), " "), Autostart: true,
			Startsecs: startsecs, Autorestart: autorestart}
	}
	return ps
}

// sleeperArgv is the command of a sleeper program.
func sleeperArgv(sleepBin string) []string { return []string{sleepBin, "1000000"} }
