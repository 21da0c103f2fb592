package config

import (
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/drover/drover/internal/pyrepr"
)

// Drover's pool options, read from a [program:x] section's extension keys
// (Process.Extra). Supervisor ignores them, so one file serves both.
const (
	optNumprocsMin   = "numprocs_min"
	optNumprocsMax   = "numprocs_max"
	optScaleQueue    = "scale_queue"
	optScaleStep     = "scale_step"
	optScaleCooldown = "scale_cooldown"
	optScaleInterval = "scale_interval"
	optScaleJobs     = "scale_jobs_per_worker"
	optScaleMaxWait  = "scale_max_wait"
	optRestartWatch  = "rolling_restart_watch"
	optFleetMax      = "fleet_max"
)

// scalingOptions are the keys that only make sense with numprocs_max.
var scalingOptions = []string{optNumprocsMin, optScaleQueue, optScaleStep, optScaleCooldown,
	optScaleInterval, optScaleJobs, optScaleMaxWait, optFleetMax}

// Scaling is the autoscaling setup of a [program:x] group (numprocs_max set).
type Scaling struct {
	Min, Max      int           // numprocs_min (default numprocs), numprocs_max
	Queue         QueueSource   // scale_queue
	Step          int           // scale_step: most workers added or removed at once (default 1)
	Cooldown      time.Duration // scale_cooldown: least time between two resizes (default 10s)
	Interval      time.Duration // scale_interval: time between two queue samples (default 2s)
	JobsPerWorker int           // scale_jobs_per_worker: waiting jobs one extra worker absorbs (default 1)
	MaxWait       time.Duration // scale_max_wait: grow by a step when the oldest job waited longer (0: off)
	// FleetMax is fleet_max: the most workers of this group across the
	// nodes of the [fleet] (leases in Redis); 0: no fleet-wide cap.
	FleetMax int
}

// Queue source kinds.
const (
	QueueLaravelRedis = "laravel-redis" // Laravel's Redis queue layout
	QueueRedisList    = "redis-list"    // plain Redis lists
	QueueRedisKey     = "redis"         // one Redis key (rolling_restart_watch)
)

// QueueSource says where a pool's queue lives.
type QueueSource struct {
	Kind     string // QueueLaravelRedis, QueueRedisList or QueueRedisKey
	Addr     string // host:port
	DB       int
	Username string
	Password string
	// Prefix is Laravel's Redis key prefix (default "laravel_database_").
	Prefix string
	// Keys are the Laravel queue names, the list keys or the watched key.
	Keys []string
	// Display is the URL with the password masked, for status output.
	Display string
}

// DefaultLaravelPrefix is the Redis key prefix of Laravel 8-11's skeleton.
const DefaultLaravelPrefix = "laravel_database_"

// pools checks the Drover pool options of every group and expands the spare
// processes of homogeneous [program:x] groups (for autoscaling and rolling
// restarts). It runs after the Supervisor-compatible parse, so Supervisor's
// own errors win.
func (l *loader) pools(groups []*Group) error {
	for _, g := range groups {
		if g.Kind != KindProgram {
			continue
		}
		section := "program:" + g.Name
		homogeneous := l.ini.has(section) && !l.ini.has("group:"+g.Name)
		if !homogeneous {
			if err := l.rejectScaling(g); err != nil {
				return err
			}
			continue
		}
		if err := l.programPool(section, g); err != nil {
			return err
		}
	}
	return nil
}

// rejectScaling fails when a program listed in a [group:x] has pool options:
// a heterogeneous group has no single program to scale.
func (l *loader) rejectScaling(g *Group) error {
	for _, p := range g.Processes {
		for _, opt := range append([]string{optNumprocsMax, optRestartWatch}, scalingOptions...) {
			if _, ok := p.Extra[opt]; ok {
				return l.optErr("program:"+p.ProgramName, opt,
					fmt.Errorf("%s is not supported for a program listed in [group:%s]", opt, g.Name))
			}
		}
	}
	return nil
}

// programPool reads the pool options of one [program:x] group.
func (l *loader) programPool(section string, g *Group) error {
	if len(g.Processes) == 0 {
		return nil
	}
	extra := g.Processes[0].Extra
	numprocs := len(g.Processes)
	nameRaw, _ := l.rawValue(section, "process_name", "%(program_name)s")
	numbered := strings.Contains(nameRaw, "%(process_num)")
	slots := numprocs
	if _, ok := extra[optNumprocsMax]; ok {
		sc, err := l.scaling(section, extra, numprocs)
		if err != nil {
			return err
		}
		if sc.Max > 1 && !numbered {
			return l.optErr(section, optNumprocsMax,
				fmt.Errorf("%%(process_num) must be present within process_name when numprocs_max > 1"))
		}
		g.Scaling = sc
		slots = sc.Max
	} else {
		for _, opt := range scalingOptions {
			if _, ok := extra[opt]; ok {
				return l.optErr(section, opt, fmt.Errorf("%s needs numprocs_max", opt))
			}
		}
	}
	if v, ok := extra[optRestartWatch]; ok {
		src, err := parseQueueURL(v)
		if err == nil && (src.Kind != QueueRedisKey || len(src.Keys) != 1) {
			err = fmt.Errorf("rolling_restart_watch must be redis://host:port/db?key=<key>")
		}
		if err == nil && !numbered {
			err = fmt.Errorf("rolling_restart_watch needs %%(process_num) within process_name (a rolling restart adds workers)")
		}
		if err != nil {
			return l.optErr(section, optRestartWatch, err)
		}
		g.RestartWatch = &src
	}
	if !numbered {
		return nil // rolling restarts need distinct names for the extra workers
	}
	// Slots beyond numprocs for scaling, then as many again as surge
	// workers for rolling restarts.
	spares, err := l.spareProcesses(section, numprocs, 2*slots-numprocs)
	if err != nil {
		if g.Scaling != nil {
			return err
		}
		return nil // a plain program stays valid for Supervisor; it just cannot roll
	}
	g.Spares = spares
	return nil
}

// scaling parses the scaling options of a section with numprocs_max.
func (l *loader) scaling(section string, extra map[string]string, numprocs int) (*Scaling, error) {
	sc := &Scaling{Min: numprocs, Step: 1, Cooldown: 10 * time.Second, Interval: 2 * time.Second, JobsPerWorker: 1}
	ints := []struct {
		opt string
		dst *int
		min int
	}{
		{optNumprocsMax, &sc.Max, 1},
		{optNumprocsMin, &sc.Min, 1},
		{optScaleStep, &sc.Step, 1},
		{optScaleJobs, &sc.JobsPerWorker, 1},
		{optFleetMax, &sc.FleetMax, 1},
	}
	for _, o := range ints {
		v, ok := extra[o.opt]
		if !ok {
			continue
		}
		n, err := pyInt(v)
		if err == nil && n < o.min {
			err = fmt.Errorf("%s must be at least %d, not %d", o.opt, o.min, n)
		}
		if err != nil {
			return nil, l.optErr(section, o.opt, err)
		}
		*o.dst = n
	}
	secs := []struct {
		opt string
		dst *time.Duration
		min int
	}{
		{optScaleCooldown, &sc.Cooldown, 0},
		{optScaleInterval, &sc.Interval, 1},
		{optScaleMaxWait, &sc.MaxWait, 0},
	}
	for _, o := range secs {
		v, ok := extra[o.opt]
		if !ok {
			continue
		}
		n, err := pyInt(v)
		if err == nil && n < o.min {
			err = fmt.Errorf("%s must be at least %d seconds, not %d", o.opt, o.min, n)
		}
		if err != nil {
			return nil, l.optErr(section, o.opt, err)
		}
		*o.dst = time.Duration(n) * time.Second
	}
	switch {
	case sc.Min > numprocs:
		return nil, l.optErr(section, optNumprocsMin,
			fmt.Errorf("numprocs_min (%d) must not exceed numprocs (%d)", sc.Min, numprocs))
	case sc.Max < numprocs:
		return nil, l.optErr(section, optNumprocsMax,
			fmt.Errorf("numprocs_max (%d) must not be below numprocs (%d)", sc.Max, numprocs))
	}
	v, ok := extra[optScaleQueue]
	if !ok {
		return nil, l.optErr(section, optNumprocsMax, fmt.Errorf("numprocs_max needs scale_queue"))
	}
	src, err := parseQueueURL(v)
	if err == nil && src.Kind == QueueRedisKey {
		err = fmt.Errorf("scale_queue must be laravel-redis://... or redis-list://...")
	}
	if err != nil {
		return nil, l.optErr(section, optScaleQueue, err)
	}
	sc.Queue = src
	return sc, nil
}

// parseQueueURL reads
//
//	laravel-redis://[[user]:password@]host[:port][/db]?queues=a,b[&prefix=p]
//	redis-list://[[user]:password@]host[:port][/db]?key=a[,b]
//	redis://[[user]:password@]host[:port][/db]?key=k
func parseQueueURL(s string) (QueueSource, error) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil {
		return QueueSource{}, fmt.Errorf("bad queue URL %s: %v", pyrepr.Str(s), err)
	}
	src := QueueSource{Kind: u.Scheme}
	q := u.Query()
	switch u.Scheme {
	case QueueLaravelRedis:
		src.Keys = splitList(q.Get("queues"))
		if len(src.Keys) == 0 {
			src.Keys = []string{"default"}
		}
		src.Prefix = DefaultLaravelPrefix
		if q.Has("prefix") {
			src.Prefix = q.Get("prefix")
		}
	case QueueRedisList, QueueRedisKey:
		src.Keys = splitList(q.Get("key"))
		if len(src.Keys) == 0 {
			return src, fmt.Errorf("queue URL %s needs ?key=", pyrepr.Str(s))
		}
	default:
		return src, fmt.Errorf("queue URL %s: unknown scheme %s (laravel-redis, redis-list or redis)", pyrepr.Str(s), pyrepr.Str(u.Scheme))
	}
	host, port := u.Hostname(), u.Port()
	if host == "" {
		host = "127.0.0.1"
	}
	if port == "" {
		port = "6379"
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return src, fmt.Errorf("queue URL %s: bad port %s", pyrepr.Str(s), pyrepr.Str(port))
	}
	src.Addr = host + ":" + port
	if db := strings.Trim(u.Path, "/"); db != "" {
		if src.DB, err = strconv.Atoi(db); err != nil || src.DB < 0 {
			return src, fmt.Errorf("queue URL %s: bad database number %s", pyrepr.Str(s), pyrepr.Str(db))
		}
	}
	if u.User != nil {
		src.Username = u.User.Username()
		src.Password, _ = u.User.Password()
		if _, hasPass := u.User.Password(); !hasPass {
			// redis://secret@host: a lone userinfo is the password, as redis-cli reads it.
			src.Username, src.Password = "", u.User.Username()
		}
		u.User = url.UserPassword(src.Username, "xxxxx")
	}
	src.Display = u.String()
	return src, nil
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// spareProcesses expands count further processes of section, numbered after
// its numprocs processes, exactly as the section's own processes are expanded
// (the section is parsed again with a larger numprocs; %(numprocs)d in a
// spare process expands to that larger count). Warnings are not repeated.
func (l *loader) spareProcesses(section string, numprocs, count int) ([]*Process, error) {
	if count <= 0 {
		return nil, nil
	}
	restore := l.overrideOption(section, "numprocs", strconv.Itoa(numprocs+count))
	defer restore()
	warnings := len(l.warnings)
	defer func() { l.warnings = l.warnings[:warnings] }()
	_, rest, _ := strings.Cut(section, ":")
	all, err := l.programSection(section, rest, KindProgram)
	if err != nil {
		return nil, err
	}
	first := all[0].ProcessNum
	for _, p := range all {
		first = min(first, p.ProcessNum)
	}
	var spares []*Process
	for _, p := range all {
		if p.ProcessNum >= first+numprocs {
			p.Environment = mergeEnv(l.cfg.Supervisord.Environment, p.Environment)
			spares = append(spares, p)
		}
	}
	slices.SortFunc(spares, func(a, b *Process) int { return a.ProcessNum - b.ProcessNum })
	return spares, nil
}

// overrideOption sets an option of a section for the duration of a reparse
// and returns the function that puts the section back as it was.
func (l *loader) overrideOption(section, key, value string) func() {
	s := l.ini.Sections[section]
	old, had := s.Keys[key]
	order := s.Order
	pos := Pos{File: s.File, Line: s.Line}
	if had {
		pos = old.Pos
	}
	s.Keys[key] = &iniValue{Value: value, Pos: pos}
	if !had {
		s.Order = append(append([]string(nil), order...), key)
	}
	return func() {
		if had {
			s.Keys[key] = old
		} else {
			delete(s.Keys, key)
		}
		s.Order = order
	}
}

// optErr locates err at an extension option of section.
func (l *loader) optErr(section, opt string, err error) error {
	v, _ := l.ini.get(section, opt)
	return l.errAt(v, section, opt, err)
}

// SameProcess reports whether two process configs run the same process:
// equal for reread but for the pool options, which change the pool, not its
// processes (a rolling update replaces only the processes that differ).
func SameProcess(a, b *Process) bool {
	strip := func(p *Process) *Process {
		c := *p
		c.Extra = maps.Clone(p.Extra)
		for _, opt := range append([]string{optNumprocsMax, optRestartWatch}, scalingOptions...) {
			delete(c.Extra, opt)
		}
		return &c
	}
	return processEqual(strip(a), strip(b))
}
