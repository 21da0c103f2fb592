package config

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// programOptions are the options Supervisor reads from a program-type
// section; any other key goes to Process.Extra.
var programOptions = optionSet("command process_name numprocs numprocs_start priority autostart " +
	"autorestart startsecs startretries exitcodes stopsignal stopwaitsecs stopasgroup " +
	"killasgroup user redirect_stderr environment directory umask serverurl " +
	"stdout_logfile stdout_logfile_maxbytes stdout_logfile_backups stdout_capture_maxbytes " +
	"stdout_events_enabled stdout_syslog stderr_logfile stderr_logfile_maxbytes " +
	"stderr_logfile_backups stderr_capture_maxbytes stderr_events_enabled stderr_syslog")

var listenerOptions = optionSet("buffer_size events result_handler")
var fcgiOptions = optionSet("socket socket_backlog socket_owner socket_mode")

func optionSet(names string) map[string]bool {
	m := map[string]bool{}
	for _, n := range strings.Fields(names) {
		m[n] = true
	}
	return m
}

// programSection reads the options of one [program:x]-like section into
// numprocs processes belonging to group, following Supervisor's order of
// reads (it decides which error wins) and its expansion scopes.
func (l *loader) programSection(section, group string, kind GroupKind) ([]*Process, error) {
	_, rest, _ := strings.Cut(section, ":")
	program, err := checkName(rest)
	if err != nil {
		return nil, l.sectionErr(section, err.Error())
	}
	common := vars{"here": l.here, "program_name": program, "host_node_name": l.hostname, "group_name": group}
	// get mirrors Supervisor's closure: the shared (and later mutated)
	// expansions always apply.
	get := func(opt, def string) (string, *iniValue, error) {
		return l.value(section, opt, def, common)
	}
	getInt := func(opt, def string) (int, error) { return convert(l, section, opt, def, common, pyInt) }
	getBool := func(opt, def string) (bool, error) { return convert(l, section, opt, def, common, parseBool) }
	getBytes := func(opt, def string) (int64, error) { return convert(l, section, opt, def, common, parseByteSize) }

	p := Process{Group: group, ProgramName: program, Umask: -1, UID: -1, GID: -1}
	var startSecs, stopWait int
	steps := []func() error{
		func() (err error) { p.Priority, err = getInt("priority", "999"); return },
		func() (err error) { p.Autostart, err = getBool("autostart", "true"); return },
		func() (err error) {
			p.AutoRestart, err = convert(l, section, "autorestart", "unexpected", common, parseAutoRestart)
			return
		},
		func() (err error) { startSecs, err = getInt("startsecs", "1"); return },
		func() (err error) { p.StartRetries, err = getInt("startretries", "3"); return },
		func() (err error) {
			p.StopSignal, err = convert(l, section, "stopsignal", "TERM", common, parseSignal)
			return
		},
		func() (err error) { stopWait, err = getInt("stopwaitsecs", "10"); return },
		func() (err error) { p.StopAsGroup, err = getBool("stopasgroup", "false"); return },
		func() (err error) {
			p.KillAsGroup, err = getBool("killasgroup", strconv.FormatBool(p.StopAsGroup))
			return
		},
		func() (err error) {
			p.ExitCodes, err = convert(l, section, "exitcodes", "0", common, parseExitCodes)
			return
		},
		func() (err error) { p.RedirectStderr, err = getBool("redirect_stderr", "false"); return },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, err
		}
	}
	p.StartSecs = time.Duration(startSecs) * time.Second
	p.StopWait = time.Duration(stopWait) * time.Second
	numprocs, err := getInt("numprocs", "1")
	if err != nil {
		return nil, err
	}
	numprocsStart, err := getInt("numprocs_start", "0")
	if err != nil {
		return nil, err
	}
	envRaw, envVal := l.rawValue(section, "environment", "")
	if p.Stdout.CaptureMaxBytes, err = getBytes("stdout_capture_maxbytes", "0"); err != nil {
		return nil, err
	}
	if p.Stdout.EventsEnabled, err = getBool("stdout_events_enabled", "false"); err != nil {
		return nil, err
	}
	if p.Stderr.CaptureMaxBytes, err = getBytes("stderr_capture_maxbytes", "0"); err != nil {
		return nil, err
	}
	if p.Stderr.EventsEnabled, err = getBool("stderr_events_enabled", "false"); err != nil {
		return nil, err
	}
	if p.ServerURL, _, err = get("serverurl", "AUTO"); err != nil {
		return nil, err
	}
	if strings.EqualFold(strings.TrimSpace(p.ServerURL), "AUTO") {
		p.ServerURL = "AUTO"
	}
	if err := l.processUser(section, common, &p); err != nil {
		return nil, err
	}
	if _, ok := l.ini.get(section, "umask"); ok {
		if p.Umask, err = convert(l, section, "umask", "", common, parseOctal); err != nil {
			return nil, err
		}
	}
	nameRaw, nameVal := l.rawValue(section, "process_name", "%(program_name)s")
	if nameRaw, err = checkName(nameRaw); err != nil {
		return nil, l.errAt(nameVal, section, "process_name", err)
	}
	if numprocs > 1 && !strings.Contains(nameRaw, "%(process_num)") {
		return nil, l.errAt(nameVal, section, "process_name",
			fmt.Errorf("%%(process_num) must be present within process_name when numprocs > 1"))
	}
	if p.StopAsGroup && !p.KillAsGroup {
		v, _ := l.ini.get(section, "killasgroup")
		return nil, l.errAt(v, section, "killasgroup", fmt.Errorf("Cannot set stopasgroup=true and killasgroup=false"))
	}

	var procs []*Process
	for num := numprocsStart; num < numprocsStart+numprocs; num++ {
		proc := p
		proc.ProcessNum = num
		proc.ExitCodes = slices.Clone(p.ExitCodes)
		proc.Groups = slices.Clone(p.Groups)
		common.merge(vars{"process_num": num, "numprocs": numprocs}).merge(l.env)
		envStr, err := expand(envRaw, common, "environment")
		if err != nil {
			return nil, l.errAt(envVal, section, "environment", err)
		}
		if proc.Environment, err = parseEnvironment(envStr); err != nil {
			return nil, l.errAt(envVal, section, "environment", err)
		}
		for _, e := range proc.Environment {
			common["ENV_"+e.Key] = e.Value
		}
		if proc.Directory, _, err = get("directory", ""); err != nil {
			return nil, err
		}
		for _, ch := range []struct {
			name string
			log  *ChildLog
		}{{"stdout", &proc.Stdout}, {"stderr", &proc.Stderr}} {
			if err := l.childLog(section, ch.name, common, ch.log); err != nil {
				return nil, err
			}
		}
		if proc.RedirectStderr {
			if proc.Stderr.Kind == LogFile {
				l.warnings = append(l.warnings, fmt.Sprintf("For [%s], redirect_stderr=true but stderr_logfile has "+
					"also been set to a filename, the filename has been ignored", section))
			}
			proc.Stderr.Kind, proc.Stderr.Path = LogNone, ""
		}
		cmd, cmdVal, err := get("command", "")
		if err != nil {
			return nil, err
		}
		if cmdVal == nil {
			return nil, l.sectionErr(section, fmt.Sprintf("program section %s does not specify a command", section))
		}
		proc.Command = cmd
		proc.Argv, proc.ArgvErr = commandArgv(cmd)
		if proc.Name, err = expand(nameRaw, common, "process_name"); err != nil {
			return nil, l.errAt(nameVal, section, "process_name", err)
		}
		proc.Extra, proc.ExtraLines = l.extra(section, kind, common)
		procs = append(procs, &proc)
	}
	sortProcesses(procs)
	return procs, nil
}

// childLog reads the *_logfile options of one channel. The logfile name is
// expanded twice (Supervisor 4.2.5 quirk: a literal % needs %%%%).
func (l *loader) childLog(section, ch string, common vars, log *ChildLog) error {
	key := ch + "_logfile"
	v, ok := l.ini.get(section, key)
	log.Kind = LogAuto
	deprecatedSyslog := false
	if ok {
		s, _, err := l.value(section, key, "", common)
		if err == nil {
			s, err = expand(s, common, key)
		}
		if err != nil {
			return l.errAt(v, section, key, err)
		}
		switch strings.ToLower(s) {
		case "none", "off":
			log.Kind = LogNone
		case "auto":
		case "syslog":
			log.Kind, deprecatedSyslog = LogNone, true
		default:
			path, err := existingDirpath(s)
			if err != nil {
				return l.errAt(v, section, key, err)
			}
			log.Kind, log.Path = LogFile, path
		}
	}
	var err error
	if log.Backups, err = convert(l, section, ch+"_logfile_backups", "10", common, pyInt); err != nil {
		return err
	}
	if log.MaxBytes, err = convert(l, section, ch+"_logfile_maxbytes", "50MB", common, parseByteSize); err != nil {
		return err
	}
	if log.Syslog, err = convert(l, section, ch+"_syslog", "false", common, parseBool); err != nil {
		return err
	}
	if deprecatedSyslog {
		l.warnings = append(l.warnings, fmt.Sprintf("For [%s], %s=syslog but this is deprecated and will be removed.  "+
			"Use %s_syslog=true to enable syslog instead.", section, key, ch))
		log.Syslog = true
	}
	if log.Kind == LogAuto && log.MaxBytes == 0 {
		l.warnings = append(l.warnings, fmt.Sprintf("For [%s], AUTO logging used for %s without rollover, "+
			"set maxbytes > 0 to avoid filling up filesystem unintentionally", section, key))
	}
	return nil
}

// processUser resolves user= to uid, primary gid and supplementary groups.
func (l *loader) processUser(section string, common vars, p *Process) error {
	name, v, err := l.value(section, "user", "", common)
	if err != nil || v == nil {
		return err
	}
	u, err := lookupUID(name)
	if err != nil {
		return l.errAt(v, section, "user", err)
	}
	p.User = name
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
	return nil
}

// extra collects the section's keys Supervisor does not know. Values are
// expanded with the per-process expansions when that succeeds; a value
// Supervisor would ignore must not make the file invalid, so on an
// expansion error the raw value is kept.
func (l *loader) extra(section string, kind GroupKind, common vars) (map[string]string, map[string]Pos) {
	var vals map[string]string
	var lines map[string]Pos
	for _, key := range l.ini.options(section) {
		if programOptions[key] || kind == KindEventListener && listenerOptions[key] || kind == KindFCGI && fcgiOptions[key] {
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
// [fcgi-program:x], finally sorted by (priority, name).
func (l *loader) groups() ([]*Group, error) {
	var groups []*Group
	excluded := map[string]bool{}
	here := vars{"here": l.here}
	for _, section := range l.ini.Order {
		rest, ok := strings.CutPrefix(section, "group:")
		if !ok {
			continue
		}
		name, err := checkName(rest)
		if err != nil {
			return nil, l.sectionErr(section, err.Error())
		}
		programs, _, err := l.value(section, "programs", "", here)
		if err != nil {
			return nil, err
		}
		g := &Group{Name: name, Kind: KindProgram}
		if g.Priority, err = convert(l, section, "priority", "999", here, pyInt); err != nil {
			return nil, err
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
		sortProcesses(g.Processes)
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
		g := &Group{Name: name, Kind: KindProgram}
		if g.Priority, err = convert(l, section, "priority", "999", here, pyInt); err != nil {
			return nil, err
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
