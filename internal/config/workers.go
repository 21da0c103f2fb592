package config

import (
	"fmt"
	"github.com/drover/drover/internal/pyrepr"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Drover's worker options, read from a program-type section's extension
// keys (Process.Extra). Supervisor ignores them, so one file serves both.
const (
	optMemoryLimit         = "memory_limit"
	optMemoryCheckInterval = "memory_check_interval"
	optDependsOn           = "depends_on"
	optWaitFor             = "wait_for"
	optReadyCheck          = "ready_check"
	optReadyTimeout        = "ready_timeout"
	optReadyInterval       = "ready_interval"
	optRetryAfter          = "retry_after"
	optStopOnDaemonDeath   = "stop_on_daemon_death"
	optReadyRequired       = "ready_required"
)

var workerOptions = []string{optMemoryLimit, optMemoryCheckInterval, optDependsOn, optWaitFor,
	optReadyCheck, optReadyTimeout, optReadyInterval, optRetryAfter, optStopOnDaemonDeath, optReadyRequired}

// Defaults of the worker options.
const (
	DefaultMemoryCheckInterval = 5 * time.Second
	DefaultReadyTimeout        = 60 * time.Second
	DefaultReadyInterval       = time.Second
)

// Worker holds the memory limit and start-gate options of one process.
type Worker struct {
	// MemoryLimit is memory_limit in bytes (RSS of the process and its
	// descendants); 0 when unset.
	MemoryLimit         int64
	MemoryCheckInterval time.Duration // memory_check_interval
	// DependsOn are the program names of depends_on: every process of each
	// must be RUNNING (and pass its ready_check) before this one starts.
	DependsOn []string
	// WaitFor are the wait_for checks that must all pass before a start.
	WaitFor []Check
	// ReadyCheck is ready_check: this program counts as ready for its
	// dependents once RUNNING and passing it; nil when unset.
	ReadyCheck *Check
	// ReadyTimeout bounds how long `start` waits for the gate (autostart
	// waits without limit); ReadyInterval is the time between two checks.
	ReadyTimeout  time.Duration
	ReadyInterval time.Duration
	// RetryAfter is retry_after in seconds (for `drover check`); 0 when unset.
	RetryAfter int
	// KeepOnDaemonDeath is stop_on_daemon_death=false: the process is not
	// sent its stopsignal when the daemon dies (docs/robustness.md).
	KeepOnDaemonDeath bool
	// ReadyRequired is ready_required: whether the daemon's readiness
	// (/readyz, drover healthcheck) waits for this process; nil when unset.
	ReadyRequired *bool
}

// ReadyRequired reports whether the daemon counts as ready only once p
// is RUNNING: ready_required when set, else autostart.
func (p *Process) ReadyRequired() bool {
	if p.Worker != nil && p.Worker.ReadyRequired != nil {
		return *p.Worker.ReadyRequired
	}
	return p.Autostart
}

// Gated reports whether starts of the process wait for something.
func (w *Worker) Gated() bool {
	return w != nil && (len(w.DependsOn) > 0 || len(w.WaitFor) > 0)
}

// Check kinds.
const (
	CheckTCP     = "tcp"     // connect succeeds
	CheckHTTP    = "http"    // GET answers 2xx (http:// and https://)
	CheckRedis   = "redis"   // PING answers PONG
	CheckCommand = "command" // the command exits 0
)

// Check is one readiness probe.
type Check struct {
	Kind string
	// Addr is host:port for tcp and redis; URL is the full URL for http.
	Addr string
	URL  string
	// Password and DB are the redis:// credentials and database.
	Password string
	DB       int
	Argv     []string // command only
	// Display is the check as written, with a password masked.
	Display string
}

// String returns Display.
func (c Check) String() string { return c.Display }

// workers reads the worker options of every process (spares included) and
// checks the depends_on graph. It runs after the Supervisor-compatible
// parse, so Supervisor's own errors win.
func (l *loader) workers(groups []*Group) error {
	type program struct {
		section string
		worker  *Worker
	}
	programs := map[string]program{}
	var order []string
	for _, g := range groups {
		for _, p := range append(slices.Clone(g.Processes), g.Spares...) {
			section := sectionPrefix(g.Kind) + p.ProgramName
			w, err := l.worker(section, p.Extra)
			if err != nil {
				return err
			}
			p.Worker = w
			if _, seen := programs[p.ProgramName]; !seen {
				programs[p.ProgramName] = program{section, w}
				order = append(order, p.ProgramName)
			}
		}
	}
	deps := map[string][]string{}
	for _, name := range order {
		p := programs[name]
		if p.worker == nil {
			continue
		}
		for _, d := range p.worker.DependsOn {
			if _, ok := programs[d]; !ok {
				return l.optErr(p.section, optDependsOn, fmt.Errorf("depends_on names unknown program %s", pyrepr.Str(d)))
			}
		}
		deps[name] = p.worker.DependsOn
	}
	if cycle := dependencyCycle(order, deps); cycle != nil {
		return l.optErr(programs[cycle[0]].section, optDependsOn,
			fmt.Errorf("depends_on cycle: %s", strings.Join(cycle, " -> ")))
	}
	return nil
}

// sectionPrefix is the section type of a group kind, e.g. "program:".
func sectionPrefix(k GroupKind) string {
	switch k {
	case KindEventListener:
		return "eventlistener:"
	case KindFCGI:
		return "fcgi-program:"
	}
	return "program:"
}

// dependencyCycle returns a cycle of the graph as a path whose last element
// repeats its first (a -> b -> a), or nil. Programs are visited in order so
// the cycle reported is stable.
func dependencyCycle(order []string, deps map[string][]string) []string {
	const (
		unvisited = iota
		onPath
		done
	)
	state := map[string]int{}
	var path []string
	var visit func(n string) []string
	visit = func(n string) []string {
		state[n] = onPath
		path = append(path, n)
		for _, d := range deps[n] {
			switch state[d] {
			case onPath:
				i := slices.Index(path, d)
				return append(slices.Clone(path[i:]), d)
			case unvisited:
				if c := visit(d); c != nil {
					return c
				}
			}
		}
		path = path[:len(path)-1]
		state[n] = done
		return nil
	}
	for _, n := range order {
		if state[n] == unvisited {
			if c := visit(n); c != nil {
				return c
			}
		}
	}
	return nil
}

// worker parses the worker options of one process; nil when none is set.
func (l *loader) worker(section string, extra map[string]string) (*Worker, error) {
	if !slices.ContainsFunc(workerOptions, func(o string) bool { _, ok := extra[o]; return ok }) {
		return nil, nil
	}
	w := &Worker{MemoryCheckInterval: DefaultMemoryCheckInterval,
		ReadyTimeout: DefaultReadyTimeout, ReadyInterval: DefaultReadyInterval}
	fail := func(opt string, err error) (*Worker, error) { return nil, l.optErr(section, opt, err) }
	if v, ok := extra[optMemoryLimit]; ok {
		n, err := parseByteSize(strings.TrimSpace(v))
		if err == nil && n <= 0 {
			err = fmt.Errorf("memory_limit must be positive, not %s", pyrepr.Str(v))
		}
		if err != nil {
			return fail(optMemoryLimit, err)
		}
		w.MemoryLimit = n
	}
	durations := []struct {
		opt string
		dst *time.Duration
		min time.Duration
	}{
		{optMemoryCheckInterval, &w.MemoryCheckInterval, 100 * time.Millisecond},
		{optReadyTimeout, &w.ReadyTimeout, 0},
		{optReadyInterval, &w.ReadyInterval, 100 * time.Millisecond},
	}
	for _, d := range durations {
		v, ok := extra[d.opt]
		if !ok {
			continue
		}
		t, err := parseSeconds(v)
		if err == nil && t < d.min {
			err = fmt.Errorf("%s must be at least %s, not %s", d.opt, d.min, pyrepr.Str(v))
		}
		if err != nil {
			return fail(d.opt, err)
		}
		*d.dst = t
	}
	if v, ok := extra[optDependsOn]; ok {
		for _, name := range splitList(v) {
			if !slices.Contains(w.DependsOn, name) {
				w.DependsOn = append(w.DependsOn, name)
			}
		}
		if _, rest, _ := strings.Cut(section, ":"); slices.Contains(w.DependsOn, rest) {
			return fail(optDependsOn, fmt.Errorf("depends_on cycle: %s -> %s", rest, rest))
		}
	}
	if v, ok := extra[optWaitFor]; ok {
		for _, s := range splitChecks(v) {
			c, err := ParseCheck(s)
			if err != nil {
				return fail(optWaitFor, err)
			}
			w.WaitFor = append(w.WaitFor, c)
		}
	}
	if v, ok := extra[optReadyCheck]; ok {
		c, err := ParseCheck(strings.TrimSpace(v))
		if err != nil {
			return fail(optReadyCheck, err)
		}
		w.ReadyCheck = &c
	}
	if v, ok := extra[optRetryAfter]; ok {
		n, err := pyInt(v)
		if err == nil && n < 1 {
			err = fmt.Errorf("retry_after must be at least 1, not %d", n)
		}
		if err != nil {
			return fail(optRetryAfter, err)
		}
		w.RetryAfter = n
	}
	if v, ok := extra[optStopOnDaemonDeath]; ok {
		stop, err := parseBool(strings.TrimSpace(v))
		if err != nil {
			return fail(optStopOnDaemonDeath, err)
		}
		w.KeepOnDaemonDeath = !stop
	}
	if v, ok := extra[optReadyRequired]; ok {
		required, err := parseBool(strings.TrimSpace(v))
		if err != nil {
			return fail(optReadyRequired, err)
		}
		w.ReadyRequired = &required
	}
	return w, nil
}

// parseSeconds reads a duration: a number of seconds ("5", "0.5") or a Go
// duration ("500ms", "1m").
func parseSeconds(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if f, err := strconv.ParseFloat(s, 64); err == nil && f >= 0 {
		return time.Duration(f * float64(time.Second)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%s is not a duration (seconds, or e.g. 500ms, 2m)", pyrepr.Str(s))
	}
	return d, nil
}

// splitChecks splits wait_for: one check per line, and URL checks on one
// line also by commas. A command: check runs to the end of its line.
func splitChecks(s string) []string {
	var out []string
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "command:") {
			out = append(out, line)
			continue
		}
		out = append(out, splitList(line)...)
	}
	return out
}

// ParseCheck reads one check:
//
//	tcp://host:port
//	http://host:port/path, https://...
//	redis://[:password@]host[:port][/db]
//	command:/path/to/check args
func ParseCheck(s string) (Check, error) {
	if cmd, ok := strings.CutPrefix(s, "command:"); ok {
		argv, err := shlexSplit(cmd)
		if err == nil && len(argv) == 0 {
			err = fmt.Errorf("empty command")
		}
		if err != nil {
			return Check{}, fmt.Errorf("bad check %s: %v", pyrepr.Str(s), err)
		}
		return Check{Kind: CheckCommand, Argv: argv, Display: s}, nil
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return Check{}, fmt.Errorf("bad check %s: want tcp://host:port, http://host:port/path, redis://host:port or command:/path", pyrepr.Str(s))
	}
	c := Check{Display: s}
	switch u.Scheme {
	case "tcp":
		c.Kind = CheckTCP
	case "http", "https":
		c.Kind, c.URL = CheckHTTP, s
		return c, nil
	case "redis":
		c.Kind = CheckRedis
		if u.User != nil {
			c.Password, _ = u.User.Password()
			if c.Password == "" {
				c.Password = u.User.Username()
			}
			u.User = url.User("xxxxx")
			c.Display = u.String()
		}
		if db := strings.Trim(u.Path, "/"); db != "" {
			if c.DB, err = strconv.Atoi(db); err != nil || c.DB < 0 {
				return Check{}, fmt.Errorf("bad check %s: bad database number %s", pyrepr.Str(s), pyrepr.Str(db))
			}
		}
	default:
		return Check{}, fmt.Errorf("bad check %s: unknown scheme %s (tcp, http, https, redis or command:)", pyrepr.Str(s), pyrepr.Str(u.Scheme))
	}
	host, port := u.Hostname(), u.Port()
	if port == "" && c.Kind == CheckRedis {
		port = "6379"
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || n == 0 {
		return Check{}, fmt.Errorf("bad check %s: needs a port", pyrepr.Str(s))
	}
	c.Addr = net.JoinHostPort(host, port)
	return c, nil
}
