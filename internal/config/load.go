package config

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Overrides are supervisord's command-line values; they win over the file.
// Flags are true when given; valued options are nil when not given and hold
// the argument as typed otherwise (Load validates them like Supervisor).
type Overrides struct {
	Nodaemon  bool // -n
	Silent    bool // -s
	Nocleanup bool // -k
	StripANSI bool // -t

	User            *string // -u
	Umask           *string // -m
	Directory       *string // -d
	Logfile         *string // -l
	LogfileMaxBytes *string // -y
	LogfileBackups  *string // -z
	LogLevel        *string // -e
	Pidfile         *string // -j
	Identifier      *string // -i
	ChildLogDir     *string // -q
	Minfds          *string // -a
	Minprocs        *string // --minprocs

	// Spelled optionally maps a flag above (as in its comment, e.g. "-m")
	// to how it was typed (e.g. "--umask"), so that an invalid value is
	// reported under that name, as Supervisor does.
	Spelled map[string]string
}

// loader holds the state of one Load.
type loader struct {
	ini      *iniFile
	here     string // directory of the main file
	hostname string
	env      vars // ENV_* expansions, grown by [supervisord] environment
	cfg      *Config
	warnings []string
	infos    []string
	// userFromCLI says [supervisord] user came from -u (errors then have no file position).
	userFromCLI bool
}

// Load reads the supervisord configuration at path (with its includes),
// applies ov and validates everything. Errors are *Error.
func Load(path string, ov Overrides) (*Config, error) {
	if err := CheckOverrides(ov); err != nil {
		return nil, err
	}
	abs := normalizePath(path)
	l := &loader{ini: newINI(), here: filepath.Dir(abs), env: environExpansions(),
		cfg: &Config{File: abs}}
	l.hostname, _ = os.Hostname()
	if err := l.readFile(path); err != nil {
		return nil, err
	}
	if err := l.readIncludes(path); err != nil {
		return nil, err
	}
	if !l.ini.has("supervisord") {
		return nil, &Error{File: path, Msg: ".ini file does not include supervisord section"}
	}
	if err := l.supervisord(ov); err != nil {
		return nil, err
	}
	if err := l.rpcInterfaces(); err != nil {
		return nil, err
	}
	groups, err := l.groups()
	if err != nil {
		return nil, err
	}
	for _, g := range groups {
		for _, p := range g.Processes {
			p.Environment = mergeEnv(l.cfg.Supervisord.Environment, p.Environment)
		}
	}
	if err := l.pools(groups); err != nil {
		return nil, err
	}
	if err := l.workers(groups); err != nil {
		return nil, err
	}
	if err := l.container(groups); err != nil {
		return nil, err
	}
	l.cfg.Groups = groups
	if err := l.servers(); err != nil {
		return nil, err
	}
	if err := l.supervisordUser(); err != nil {
		return nil, err
	}
	if err := l.fleet(); err != nil {
		return nil, err
	}
	if l.ini.has("supervisorctl") {
		l.cfg.HasSupervisorctl = true
		l.cfg.Supervisorctl = ctlFromINI(l.ini, l.here, l.env)
	} else {
		l.cfg.Supervisorctl = ctlDefaults()
	}
	for _, w := range l.warnings {
		l.cfg.Messages = append(l.cfg.Messages, Message{Level: "WARN", Text: w})
	}
	for _, i := range l.infos {
		l.cfg.Messages = append(l.cfg.Messages, Message{Level: "INFO", Text: i})
	}
	return l.cfg, nil
}

// environExpansions is ENV_<name> for supervisord's own environment.
func environExpansions() vars {
	v := vars{}
	for _, kv := range os.Environ() {
		if k, val, ok := strings.Cut(kv, "="); ok {
			v["ENV_"+k] = val
		}
	}
	return v
}

func (l *loader) readFile(path string) error {
	data, err := readMainFile(path)
	if err != nil {
		return err
	}
	return l.ini.parse(data, path)
}

// readIncludes reads the files named by [include] of the main file; an
// [include] section in an included file is not followed.
func (l *loader) readIncludes(path string) error {
	if !l.ini.has("include") {
		return nil
	}
	substituteHere(l.ini)
	v, ok := l.ini.get("include", "files")
	if !ok {
		return &Error{File: path, Section: "include", Msg: ".ini file has [include] section, but no files setting"}
	}
	m := l.env.clone().merge(vars{"here": l.here, "host_node_name": l.hostname})
	files, err := expand(v.Value, m, "include.files")
	if err != nil {
		return l.errAt(v, "include", "files", err)
	}
	for _, pattern := range strings.Fields(files) {
		if !filepath.IsAbs(pattern) {
			pattern = l.here + "/" + pattern
		}
		matches := pyGlob(pattern)
		if len(matches) == 0 {
			l.warnings = append(l.warnings, `No file matches via include "`+pattern+`"`)
			continue
		}
		for _, name := range matches {
			l.infos = append(l.infos, `Included extra file "`+name+`" during parsing`)
			data, err := readConfigFile(name)
			var limit limitError
			if errors.As(err, &limit) {
				return &Error{File: name, Msg: "could not read included file: " + limit.Error()}
			}
			if err != nil {
				continue // RawConfigParser.read skips unreadable files
			}
			if err := l.ini.parse(data, name); err != nil {
				return err
			}
			l.cfg.Included = append(l.cfg.Included, name)
			substituteHere(l.ini)
		}
	}
	return nil
}

// substituteHere replaces a literal %(here)s in every value by the directory
// of the file the value came from, as Supervisor does after reading each
// file when [include] is present.
func substituteHere(f *iniFile) {
	for _, s := range append([]*iniSection{f.Defaults}, sectionsOf(f)...) {
		for _, v := range s.Keys {
			v.Value = strings.ReplaceAll(v.Value, "%(here)s", v.here())
		}
	}
}

func sectionsOf(f *iniFile) []*iniSection {
	out := make([]*iniSection, 0, len(f.Order))
	for _, n := range f.Order {
		out = append(out, f.Sections[n])
	}
	return out
}

// pyGlob is Python's glob.glob sorted: like filepath.Glob, but a wildcard
// does not match a leading dot, and a malformed pattern matches nothing.
func pyGlob(pattern string) []string {
	matches, _ := filepath.Glob(pattern)
	dotOK := strings.HasPrefix(filepath.Base(pattern), ".")
	out := matches[:0]
	for _, m := range matches {
		if dotOK || !strings.HasPrefix(filepath.Base(m), ".") {
			out = append(out, m)
		}
	}
	slices.Sort(out)
	return out
}

// errAt wraps err with the position of v (or of the section when the value
// is a default).
func (l *loader) errAt(v *iniValue, section, option string, err error) error {
	e := &Error{Section: section, Option: option, Msg: err.Error()}
	if v != nil {
		e.File, e.Line = v.Pos.File, v.Pos.Line
	} else if s, ok := l.ini.Sections[section]; ok {
		e.File, e.Line = s.File, s.Line
	}
	return e
}

// value is Supervisor's saneget: the option (or def when absent) expanded
// against the ENV_ expansions plus extra (extra wins). The *iniValue is nil
// when the option is absent.
func (l *loader) value(section, option, def string, extra vars) (string, *iniValue, error) {
	v, ok := l.ini.get(section, option)
	raw := def
	if ok {
		raw = v.Value
	}
	if !strings.Contains(raw, "%") {
		// Nothing to expand: no copy of the expansions (the environment's
		// worth, for each option of each program) to make and collect.
		return raw, v, nil
	}
	out, err := expand(raw, l.env.clone().merge(extra), section+"."+option)
	if err != nil {
		return "", v, l.errAt(v, section, option, err)
	}
	return out, v, nil
}

// rawValue is saneget with do_expand=False.
func (l *loader) rawValue(section, option, def string) (string, *iniValue) {
	if v, ok := l.ini.get(section, option); ok {
		return v.Value, v
	}
	return def, nil
}

// reader reads the options of one section in Supervisor's order. It keeps
// the first error and turns every later read into a no-op, so that the
// error reported is the one Supervisor would report.
type reader struct {
	l       *loader
	section string
	extra   vars // expansions besides ENV_*; may be mutated between reads
	err     error
}

func (l *loader) reader(section string, extra vars) *reader {
	return &reader{l: l, section: section, extra: extra}
}

// has reports whether the option is set (in the section or [DEFAULT]).
func (r *reader) has(opt string) bool {
	_, ok := r.l.ini.get(r.section, opt)
	return ok
}

// str is the expanded option, or def (expanded too) when absent.
func (r *reader) str(opt, def string) string {
	if r.err != nil {
		return ""
	}
	s, _, err := r.l.value(r.section, opt, def, r.extra)
	r.err = err
	return s
}

// fail records err located at opt unless an error is already recorded.
func (r *reader) fail(opt string, err error) {
	if r.err == nil {
		v, _ := r.l.ini.get(r.section, opt)
		r.err = r.l.errAt(v, r.section, opt, err)
	}
}

// read is str followed by a conversion whose error is located at opt.
func read[T any](r *reader, opt, def string, conv func(string) (T, error)) T {
	var zero T
	s := r.str(opt, def)
	if r.err != nil {
		return zero
	}
	out, err := conv(s)
	if err != nil {
		r.fail(opt, err)
		return zero
	}
	return out
}

func mergeEnv(base, over []EnvVar) []EnvVar {
	out := slices.Clone(base)
	for _, e := range over {
		if i := slices.IndexFunc(out, func(x EnvVar) bool { return x.Key == e.Key }); i >= 0 {
			out[i].Value = e.Value
			continue
		}
		out = append(out, e)
	}
	return out
}
