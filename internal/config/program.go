package config

import (
	"fmt"
	"github.com/drover/drover/internal/pyrepr"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// programOptions are the options Supervisor reads from a program-type
// section; any other key goes to Process.Extra. These sets are made on
// first use, not at every start of the binary (`supervisorctl` included).
var programOptions = optionSet("command process_name numprocs numprocs_start priority autostart " +
	"autorestart startsecs startretries exitcodes stopsignal stopwaitsecs stopasgroup " +
	"killasgroup user redirect_stderr environment directory umask serverurl " +
	"stdout_logfile stdout_logfile_maxbytes stdout_logfile_backups stdout_capture_maxbytes " +
	"stdout_events_enabled stdout_syslog stderr_logfile stderr_logfile_maxbytes " +
	"stderr_logfile_backups stderr_capture_maxbytes stderr_events_enabled stderr_syslog")

var listenerOptions = optionSet("buffer_size events result_handler")
var fcgiOptions = optionSet("socket socket_backlog socket_owner socket_mode")

func optionSet(names string) func() map[string]bool {
	return sync.OnceValue(func() map[string]bool {
		m := map[string]bool{}
		for _, n := range strings.Fields(names) {
			m[n] = true
		}
		return m
	})
}

// programSection reads the options of one [program:x]-like section into
// numprocs processes belonging to group. Supervisor appends the section and
// the file that declared it to these errors (and only these).
func (l *loader) programSection(section, group string, kind GroupKind) ([]*Process, error) {
	procs, err := l.programProcesses(section, group, kind)
	if e, ok := err.(*Error); ok {
		e.supervisorSuffix = fmt.Sprintf(" in section %s (file: %s)", pyrepr.Str(section), pyrepr.Str(l.ini.Sections[section].File))
	}
	return procs, err
}

// programProcesses follows Supervisor's order of reads (it decides which
// error wins) and its expansion scopes.
func (l *loader) programProcesses(section, group string, kind GroupKind) ([]*Process, error) {
	_, rest, _ := strings.Cut(section, ":")
	program, err := checkName(rest)
	if err != nil {
		return nil, l.sectionErr(section, err.Error())
	}
	// Supervisor shares (and, per process, extends) one expansions dict
	// between the reads of a section, so per-process names stay visible to
	// later reads; r.extra is that dict.
	r := l.reader(section, vars{"here": l.here, "program_name": program, "host_node_name": l.hostname, "group_name": group})
	p := Process{Group: group, ProgramName: program, Umask: -1, UID: -1, GID: -1}
	p.Priority = read(r, "priority", "999", pyInt)
	p.Autostart = read(r, "autostart", "true", parseBool)
	p.AutoRestart = read(r, "autorestart", "unexpected", parseAutoRestart)
	p.StartSecs = time.Duration(read(r, "startsecs", "1", pyInt)) * time.Second
	p.StartRetries = read(r, "startretries", "3", pyInt)
	p.StopSignal = read(r, "stopsignal", "TERM", parseSignal)
	p.StopWait = time.Duration(read(r, "stopwaitsecs", "10", pyInt)) * time.Second
	p.StopAsGroup = read(r, "stopasgroup", "false", parseBool)
	p.KillAsGroup = read(r, "killasgroup", strconv.FormatBool(p.StopAsGroup), parseBool)
	p.ExitCodes = read(r, "exitcodes", "0", parseExitCodes)
	p.RedirectStderr = read(r, "redirect_stderr", "false", parseBool)
	numprocs := read(r, "numprocs", "1", pyInt)
	numprocsStart := read(r, "numprocs_start", "0", pyInt)
	envRaw, envVal := l.rawValue(section, "environment", "")
	p.Stdout.CaptureMaxBytes = read(r, "stdout_capture_maxbytes", "0", parseByteSize)
	p.Stdout.EventsEnabled = read(r, "stdout_events_enabled", "false", parseBool)
	p.Stderr.CaptureMaxBytes = read(r, "stderr_capture_maxbytes", "0", parseByteSize)
	p.Stderr.EventsEnabled = read(r, "stderr_events_enabled", "false", parseBool)
	p.ServerURL = r.str("serverurl", "AUTO")
	if strings.EqualFold(strings.TrimSpace(p.ServerURL), "AUTO") {
		p.ServerURL = "AUTO"
	}
	if r.has("user") {
		p.User = r.str("user", "")
		l.processUser(r, &p)
	}
	if r.has("umask") {
		p.Umask = read(r, "umask", "", parseOctal)
	}
	nameRaw, nameVal := l.rawValue(section, "process_name", "%(program_name)s")
	if r.err != nil {
		return nil, r.err
	}
	if nameRaw, err = checkName(nameRaw); err != nil {
		return nil, l.errAt(nameVal, section, "process_name", err)
	}
	if numprocs > 1 && !strings.Contains(nameRaw, "%(process_num)") {
		return nil, l.errAt(nameVal, section, "process_name",
			fmt.Errorf("%%(process_num) must be present within process_name when numprocs > 1"))
	}
	if p.StopAsGroup && !p.KillAsGroup {
		r.fail("killasgroup", fmt.Errorf("Cannot set stopasgroup=true and killasgroup=false"))
		return nil, r.err
	}

	var procs []*Process
	for num := numprocsStart; num < numprocsStart+numprocs; num++ {
		proc := p
		proc.ProcessNum = num
		proc.ExitCodes = slices.Clone(p.ExitCodes)
		proc.Groups = slices.Clone(p.Groups)
		r.extra.merge(vars{"process_num": num, "numprocs": numprocs}).merge(l.env)
		envStr, err := expand(envRaw, r.extra, "environment")
		if err == nil {
			proc.Environment, err = parseEnvironment(envStr)
		}
		if err != nil {
			return nil, l.errAt(envVal, section, "environment", err)
		}
		for _, e := range proc.Environment {
			r.extra["ENV_"+e.Key] = e.Value
		}
		proc.Directory = r.str("directory", "")
		l.childLog(r, "stdout", &proc.Stdout)
		l.childLog(r, "stderr", &proc.Stderr)
		if r.err != nil {
			return nil, r.err
		}
		if proc.RedirectStderr {
			if proc.Stderr.Kind == LogFile {
				l.warnings = append(l.warnings, fmt.Sprintf("For [%s], redirect_stderr=true but stderr_logfile has "+
					"also been set to a filename, the filename has been ignored", section))
			}
			proc.Stderr.Kind, proc.Stderr.Path = LogNone, ""
		}
		if !r.has("command") {
			return nil, l.sectionErr(section, fmt.Sprintf("program section %s does not specify a command", section))
		}
		proc.Command = r.str("command", "")
		if r.err != nil {
			return nil, r.err
		}
		proc.Argv, proc.ArgvErr = commandArgv(proc.Command)
		if proc.Name, err = expand(nameRaw, r.extra, "process_name"); err != nil {
			return nil, l.errAt(nameVal, section, "process_name", err)
		}
		proc.Extra, proc.ExtraLines = l.extra(section, kind, r.extra)
		procs = append(procs, &proc)
	}
	sortProcesses(procs)
	return procs, nil
}

// childLog reads the options of one output channel. The logfile name is
// expanded twice (Supervisor 4.2.5 quirk: a literal % needs %%%%).
func (l *loader) childLog(r *reader, ch string, log *ChildLog) {
	key := ch + "_logfile"
	log.Kind = LogAuto
	deprecatedSyslog := false
	if r.has(key) {
		name := r.str(key, "")
		if r.err != nil {
			return
		}
		name, err := expand(name, r.extra, key)
		if err != nil {
			r.fail(key, err)
			return
		}
		switch strings.ToLower(name) {
		case "none", "off":
			log.Kind = LogNone
		case "auto":
		case "syslog":
			log.Kind, deprecatedSyslog = LogNone, true
		default:
			path, err := existingDirpath(name)
			if err != nil {
				r.fail(key, err)
				return
			}
			log.Kind, log.Path = LogFile, path
		}
	}
	log.Backups = read(r, ch+"_logfile_backups", "10", pyInt)
	log.MaxBytes = read(r, ch+"_logfile_maxbytes", "50MB", parseByteSize)
	log.Syslog = read(r, ch+"_syslog", "false", parseBool)
	if r.err != nil {
		return
	}
	if deprecatedSyslog {
		l.warnings = append(l.warnings, fmt.Sprintf("For [%s], %s=syslog but this is deprecated and will be removed.  "+
			"Use %s_syslog=true to enable syslog instead.", r.section, key, ch))
		log.Syslog = true
	}
	if log.Kind == LogAuto && log.MaxBytes == 0 {
		l.warnings = append(l.warnings, fmt.Sprintf("For [%s], AUTO logging used for %s without rollover, "+
			"set maxbytes > 0 to avoid filling up filesystem unintentionally", r.section, key))
	}
}

// processUser resolves p.User to uid, primary gid and supplementary groups.
func (l *loader) processUser(r *reader, p *Process) {
	if r.err != nil {
		return
	}
	u, err := lookupUID(p.User)
	if err != nil {
		r.fail("user", err)
		return
	}
	p.UID, _ = strconv.Atoi(u.Uid)
	p.GID, _ = strconv.Atoi(u.Gid)
	p.Groups = []int{p.GID}
	if ids, err := u.GroupIds(); err == nil {
		for _, id := range ids {
			if n, err := strconv.Atoi(id); err == nil && !slices.Contains(p.Groups, n) {
				p.Groups = append(p.Groups, n)
			}
		}
	}
}

// extra collects the section's keys Supervisor does not know. Values are
// expanded with the per-process expansions when that succeeds; a value
// Supervisor would ignore must not make the file invalid, so on an
// expansion error the raw value is kept.
func (l *loader) extra(section string, kind GroupKind, common vars) (map[string]string, map[string]Pos) {
	var vals map[string]string
	var lines map[string]Pos
	for _, key := range l.ini.options(section) {
		if programOptions()[key] || kind == KindEventListener && listenerOptions()[key] || kind == KindFCGI && fcgiOptions()[key] {
			continue
		}
		if vals == nil {
			vals, lines = map[string]string{}, map[string]Pos{}
		}
		v, _ := l.ini.get(section, key)
		s, err := expand(v.Value, l.env.clone().merge(common), section+"."+key)
		if err != nil {
			s = v.Value
		}
		vals[key], lines[key] = s, v.Pos
	}
	return vals, lines
}

func (l *loader) sectionErr(section, msg string) error {
	e := &Error{Section: section, Msg: msg}
	if s, ok := l.ini.Sections[section]; ok {
		e.File, e.Line = s.File, s.Line
	}
	return e
}

func sortProcesses(procs []*Process) {
	slices.SortStableFunc(procs, func(a, b *Process) int {
		if a.Priority != b.Priority {
			return a.Priority - b.Priority
		}
		return strings.Compare(a.Name, b.Name)
	})
}

// groups builds every process group: [group:x] first (their programs then
// leave the homogeneous groups), then [program:x], [eventlistener:x] and
// [fcgi-program:x], finally sorted by (priority, name). A [group:x] keeps
// its programs in programs= order, each section's processes by name, and
// is then sorted stably by priority alone: Supervisor starts and stops a
// group's processes in that order. Its own loop (autostart) and the
// shutdown's "waiting for … to die" walk the programs= order, which
// Process.Member keeps.
func (l *loader) groups() ([]*Group, error) {
	var groups []*Group
	excluded := map[string]bool{}
	for _, section := range l.ini.Order {
		rest, ok := strings.CutPrefix(section, "group:")
		if !ok {
			continue
		}
		name, err := checkName(rest)
		if err != nil {
			return nil, l.sectionErr(section, err.Error())
		}
		r := l.reader(section, vars{"here": l.here})
		programs := r.str("programs", "")
		g := &Group{Name: name, Kind: KindProgram, Priority: read(r, "priority", "999", pyInt)}
		if r.err != nil {
			return nil, r.err
		}
		// Supervisor reuses its loop variable here, so after the first
		// program the messages name that program's section.
		current := section
		for _, prog := range parseStringList(programs) {
			ps, fs := "program:"+prog, "fcgi-program:"+prog
			hasP, hasF := l.ini.has(ps), l.ini.has(fs)
			switch {
			case !hasP && !hasF:
				return nil, l.sectionErr(section, fmt.Sprintf("[%s] names unknown program or fcgi-program %s", current, prog))
			case hasP && hasF:
				return nil, l.sectionErr(section, fmt.Sprintf("[%s] name %s is ambiguous (exists as program and fcgi-program)", current, prog))
			}
			current = ps
			if !hasP {
				current = fs
			}
			excluded[current] = true
			procs, err := l.programSection(current, name, KindProgram)
			if err != nil {
				return nil, err
			}
			g.Processes = append(g.Processes, procs...)
		}
		for i, p := range g.Processes {
			p.Member = i
		}
		slices.SortStableFunc(g.Processes, func(a, b *Process) int { return a.Priority - b.Priority })
		groups = append(groups, g)
	}
	for _, section := range l.ini.Order {
		rest, ok := strings.CutPrefix(section, "program:")
		if !ok || excluded[section] {
			continue
		}
		name, err := checkName(rest)
		if err != nil {
			return nil, l.sectionErr(section, err.Error())
		}
		r := l.reader(section, vars{"here": l.here})
		g := &Group{Name: name, Kind: KindProgram, Priority: read(r, "priority", "999", pyInt)}
		if r.err != nil {
			return nil, r.err
		}
		if g.Processes, err = l.programSection(section, name, KindProgram); err != nil {
			return nil, err
		}
		groups = append(groups, g)
	}
	for _, section := range l.ini.Order {
		if name, ok := strings.CutPrefix(section, "eventlistener:"); ok {
			g, err := l.listenerPool(section, name)
			if err != nil {
				return nil, err
			}
			groups = append(groups, g)
		}
	}
	for _, section := range l.ini.Order {
		rest, ok := strings.CutPrefix(section, "fcgi-program:")
		if !ok || excluded[section] {
			continue
		}
		g, err := l.fcgiGroup(section, rest)
		if err != nil {
			return nil, err
		}
		groups = append(groups, g)
	}
	slices.SortStableFunc(groups, func(a, b *Group) int {
		if a.Priority != b.Priority {
			return a.Priority - b.Priority
		}
		return strings.Compare(a.Name, b.Name)
	})
	return groups, nil
}
