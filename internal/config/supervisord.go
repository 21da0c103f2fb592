package config

import (
	"fmt"
	"github.com/drover/drover/internal/pyrepr"
	"os"
	"strconv"
	"strings"
)

// CheckOverrides validates command-line values with the converters
// Supervisor attaches to each option, before the file is searched for or read.
func CheckOverrides(ov Overrides) error {
	checks := []struct {
		flag string
		val  *string
		conv func(string) error
	}{
		{"-m", ov.Umask, func(s string) error { _, err := parseOctal(s); return err }},
		{"-d", ov.Directory, func(s string) error { _, err := existingDirectory(s); return err }},
		{"-l", ov.Logfile, func(s string) error { _, err := existingDirpath(s); return err }},
		{"-y", ov.LogfileMaxBytes, func(s string) error { _, err := parseByteSize(s); return err }},
		{"-z", ov.LogfileBackups, func(s string) error { _, err := pyInt(s); return err }},
		{"-e", ov.LogLevel, func(s string) error { _, err := parseLogLevel(s); return err }},
		{"-j", ov.Pidfile, func(s string) error { _, err := existingDirpath(s); return err }},
		{"-q", ov.ChildLogDir, func(s string) error { _, err := existingDirectory(s); return err }},
		{"-a", ov.Minfds, func(s string) error { _, err := pyInt(s); return err }},
		{"--minprocs", ov.Minprocs, func(s string) error { _, err := pyInt(s); return err }},
	}
	for _, c := range checks {
		if c.val == nil {
			continue
		}
		if err := c.conv(*c.val); err != nil {
			flag := c.flag
			if typed, ok := ov.Spelled[flag]; ok {
				flag = typed
			}
			return &Error{Msg: fmt.Sprintf("invalid value for %s %s: %s", flag, pyrepr.Str(*c.val), err)}
		}
	}
	return nil
}

// supervisord parses [supervisord] in Supervisor's order (which decides
// which error is reported first), then lets the command line override.
func (l *loader) supervisord(ov Overrides) error {
	s := &l.cfg.Supervisord
	r := l.reader("supervisord", vars{"here": l.here})
	s.Minfds = read(r, "minfds", "1024", pyInt)
	s.Minprocs = read(r, "minprocs", "200", pyInt)
	if r.has("directory") {
		s.Directory = read(r, "directory", "", existingDirectory)
	}
	if r.has("user") {
		s.User = r.str("user", "")
	}
	s.Umask = read(r, "umask", "022", parseOctal)
	s.Logfile = read(r, "logfile", "supervisord.log", existingDirpath)
	s.LogfileMaxBytes = read(r, "logfile_maxbytes", "50MB", parseByteSize)
	s.LogfileBackups = read(r, "logfile_backups", "10", pyInt)
	s.LogLevel = read(r, "loglevel", "info", parseLogLevel)
	s.Pidfile = read(r, "pidfile", "supervisord.pid", existingDirpath)
	s.Identifier = r.str("identifier", "supervisor")
	s.Nodaemon = read(r, "nodaemon", "false", parseBool)
	s.Silent = read(r, "silent", "false", parseBool)
	s.ChildLogDir = read(r, "childlogdir", tempDir(), existingDirectory)
	s.Nocleanup = read(r, "nocleanup", "false", parseBool)
	s.StripANSI = read(r, "strip_ansi", "false", parseBool)
	l.containerSupervisord(r)
	// Drover's own (docs/upgrade.md); Supervisor ignores the key.
	s.ReloadKeepsUnchanged = read(r, "reload_keeps_unchanged", "false", parseBool)
	// environment is expanded twice: once on read, once more with host_node_name.
	env := r.str("environment", "")
	if r.err != nil {
		return r.err
	}
	env, err := expand(env, l.env.clone().merge(vars{"here": l.here, "host_node_name": l.hostname}), "environment")
	if err != nil {
		r.fail("environment", err)
		return r.err
	}
	if s.Environment, err = parseEnvironment(env); err != nil {
		r.fail("environment", err)
		return r.err
	}
	for _, e := range s.Environment {
		l.env["ENV_"+e.Key] = e.Value
	}
	l.applyOverrides(ov)
	return nil
}

// applyOverrides sets command-line values (already validated) and makes
// logfile and pidfile absolute, as Supervisor does before daemonizing.
func (l *loader) applyOverrides(ov Overrides) {
	s := &l.cfg.Supervisord
	s.Nodaemon = s.Nodaemon || ov.Nodaemon
	s.Silent = s.Silent || ov.Silent
	s.Nocleanup = s.Nocleanup || ov.Nocleanup
	s.StripANSI = s.StripANSI || ov.StripANSI
	if ov.User != nil {
		s.User, l.userFromCLI = *ov.User, true
	}
	if ov.Umask != nil {
		s.Umask, _ = parseOctal(*ov.Umask)
	}
	if ov.Directory != nil {
		s.Directory, _ = existingDirectory(*ov.Directory)
	}
	if ov.Logfile != nil {
		s.Logfile, _ = existingDirpath(*ov.Logfile)
	}
	if ov.LogfileMaxBytes != nil {
		s.LogfileMaxBytes, _ = parseByteSize(*ov.LogfileMaxBytes)
	}
	if ov.LogfileBackups != nil {
		s.LogfileBackups, _ = pyInt(*ov.LogfileBackups)
	}
	if ov.LogLevel != nil {
		s.LogLevel, _ = parseLogLevel(*ov.LogLevel)
	}
	if ov.Pidfile != nil {
		s.Pidfile, _ = existingDirpath(*ov.Pidfile)
	}
	if ov.Identifier != nil {
		s.Identifier = *ov.Identifier
	}
	if ov.ChildLogDir != nil {
		s.ChildLogDir, _ = existingDirectory(*ov.ChildLogDir)
	}
	if ov.Minfds != nil {
		s.Minfds, _ = pyInt(*ov.Minfds)
	}
	if ov.Minprocs != nil {
		s.Minprocs, _ = pyInt(*ov.Minprocs)
	}
	if s.Logfile != "syslog" {
		s.Logfile = normalizePath(s.Logfile)
	}
	s.Pidfile = normalizePath(s.Pidfile)
}

// supervisordUser resolves user= (file or -u) to ids; Supervisor checks it
// after the whole file has been parsed.
func (l *loader) supervisordUser() error {
	s := &l.cfg.Supervisord
	s.UID, s.GID = -1, -1
	if s.User == "" {
		return nil
	}
	u, err := lookupUID(s.User)
	if err != nil {
		if l.userFromCLI {
			return &Error{Msg: err.Error()}
		}
		v, _ := l.ini.get("supervisord", "user")
		return l.errAt(v, "supervisord", "user", err)
	}
	s.UID, _ = strconv.Atoi(u.Uid)
	s.GID, _ = strconv.Atoi(u.Gid)
	return nil
}

// tempDir is Python's tempfile.gettempdir() default: $TMPDIR or /tmp.
func tempDir() string {
	if d := os.Getenv("TMPDIR"); d != "" {
		if fi, err := os.Stat(d); err == nil && fi.IsDir() {
			return d
		}
	}
	return "/tmp"
}

// rpcInterfaces records [rpcinterface:x] sections; Drover serves its own
// interfaces, so only the presence of the factory key is checked.
func (l *loader) rpcInterfaces() error {
	const key = "supervisor.rpcinterface_factory"
	for _, name := range l.ini.Order {
		rest, ok := strings.CutPrefix(name, "rpcinterface:")
		if !ok {
			continue
		}
		if _, ok := l.ini.get(name, key); !ok {
			s := l.ini.Sections[name]
			return &Error{File: s.File, Line: s.Line, Section: name,
				Msg: fmt.Sprintf("section [%s] does not specify a %s", name, key)}
		}
		l.cfg.RPCInterfaces = append(l.cfg.RPCInterfaces, rest)
	}
	return nil
}
