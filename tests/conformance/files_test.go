package conformance

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

const header = `[unix_http_server]
file=%(here)s/s.sock

[supervisord]
logfile=%(here)s/main.log
pidfile=%(here)s/sd.pid
childlogdir=%(here)s/logs

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix://%(here)s/s.sock

[include]
files=conf.d/*.conf
`

// commandFile is the file a program's command runs, relative to the
// config's directory: one per program name and kind, so that changing the
// kind changes the command.
func (p program) commandFile() string {
	return "bin/" + p.name + "." + kindTags[p.kind]
}

// section renders the [program:x] section. In an included file %(here)s
// is the included file's directory.
func (p program) section() string {
	here := "%(here)s"
	if p.included {
		here += "/.."
	}
	var b strings.Builder
	fmt.Fprintf(&b, "[program:%s]\ncommand=%s/%s", p.name, here, p.commandFile())
	if p.kind.spawns() {
		fmt.Fprintf(&b, " %d", p.exitCode)
	}
	b.WriteString("\n")
	if p.numprocs > 1 {
		fmt.Fprintf(&b, "numprocs=%d\nprocess_name=%%(program_name)s_%%(process_num)d\n", p.numprocs)
	}
	codes := make([]string, len(p.exitcodes))
	for i, c := range p.exitcodes {
		codes[i] = strconv.Itoa(c)
	}
	fmt.Fprintf(&b, "startsecs=%d\nstartretries=%d\nautostart=%t\nautorestart=%s\nexitcodes=%s\nstopsignal=%s\nstopwaitsecs=%d\n",
		p.startsecs, p.startretries, p.autostart, p.autorestart, strings.Join(codes, ","), p.stopsignal, p.stopwaitsecs)
	if p.stopasgroup {
		b.WriteString("stopasgroup=true\n")
	}
	if p.killasgroup {
		b.WriteString("killasgroup=true\n")
	}
	if p.redirectStderr {
		b.WriteString("redirect_stderr=true\n")
	}
	if p.priority != 0 {
		fmt.Fprintf(&b, "priority=%d\n", p.priority)
	}
	if p.environment {
		b.WriteString(`environment=GREETING="hello, world",PCT="100%%",QUOTED='say "hi"',PLAIN=x` + "\n")
	}
	if p.directory {
		fmt.Fprintf(&b, "directory=%s/wd\n", here)
	}
	if p.umask != "" {
		fmt.Fprintf(&b, "umask=%s\n", p.umask)
	}
	return b.String()
}

// files returns the main config and the included ones, by path relative to
// the case directory.
func (c config) files() map[string]string {
	main := header
	out := map[string]string{}
	for _, p := range c.programs {
		if p.included {
			out["conf.d/"+p.name+".conf"] = p.section()
		} else {
			main += "\n" + p.section()
		}
	}
	for _, g := range c.groups {
		main += fmt.Sprintf("\n[group:%s]\nprograms=%s\n", g.name, strings.Join(g.programs, ","))
		if g.priority != 0 {
			main += fmt.Sprintf("priority=%d\n", g.priority)
		}
	}
	out["supervisord.conf"] = main
	return out
}

func (c config) render() string {
	files := c.files()
	var b strings.Builder
	b.WriteString(files["supervisord.conf"])
	var names []string
	for n := range files {
		if n != "supervisord.conf" {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	for _, n := range names {
		fmt.Fprintf(&b, "--- %s ---\n%s", n, files[n])
	}
	return b.String()
}

// writeConfig replaces the config files in dir with c's.
func writeConfig(dir string, c config) error {
	old, _ := filepath.Glob(filepath.Join(dir, "conf.d", "*.conf"))
	for _, f := range old {
		if err := os.Remove(f); err != nil {
			return err
		}
	}
	for name, text := range c.files() {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// script is the shell script of a kind that runs; $1 is the exit code.
func script(k kind) string {
	// Builtins only: under load a fork can take longer than startsecs.
	const hello = `echo "$SUPERVISOR_PROCESS_NAME/$SUPERVISOR_GROUP_NAME up: $GREETING $PCT $QUOTED $PLAIN cwd=$PWD"
umask
echo "$SUPERVISOR_PROCESS_NAME to stderr" >&2
`
	switch k {
	case kindForever:
		return hello + "exec sleep 600\n"
	case kindStubborn:
		return "trap '' TERM\n" + hello + "while :; do sleep 0.2; done\n"
	case kindFastExit:
		return hello + "exit $1\n"
	case kindSlowExit:
		return hello + fmt.Sprintf("sleep %d\nexit $1\n", slowExitSecs)
	case kindForkExit:
		return hello + "sleep 2 &\nexit $1\n"
	}
	panic("no script for " + kindTags[k])
}

// prepare makes the case directory: the command files of every program of
// every version, the working directory, the log directory and the first
// config.
func prepare(dir string, tc testCase) error {
	for _, d := range []string{"bin", "conf.d", "logs", "wd"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return err
		}
	}
	for _, p := range tc.allPrograms() {
		path := filepath.Join(dir, p.commandFile())
		var err error
		switch p.kind {
		case kindMissing:
		case kindDirectory:
			err = os.MkdirAll(path, 0o755)
		case kindNoExec:
			err = os.WriteFile(path, []byte("#!/bin/sh\nexit 0\n"), 0o644)
		default:
			err = os.WriteFile(path, []byte("#!/bin/sh\n"+script(p.kind)), 0o755)
		}
		if err != nil {
			return err
		}
	}
	return writeConfig(dir, tc.conf)
}
