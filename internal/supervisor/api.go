package supervisor

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/eventlistener"
	"github.com/drover/drover/internal/events"
	"github.com/drover/drover/internal/logs"
	"github.com/drover/drover/internal/process"
	"github.com/drover/drover/internal/wire"
)

// Errors of group-level operations; rpc maps them to faults.
var (
	ErrBadName      = errors.New("bad name")      // BAD_NAME
	ErrAlreadyAdded = errors.New("already added") // ALREADY_ADDED
	ErrStillRunning = errors.New("still running") // STILL_RUNNING
	ErrShuttingDown = errors.New("shutting down") // SHUTDOWN_STATE
)

// Mood is supervisord's own state (getState); its codes are the wire's.
type Mood = wire.SupervisorState

const (
	MoodRestarting = wire.SupervisorRestarting
	MoodRunning    = wire.SupervisorRunning
	MoodShutdown   = wire.SupervisorShutdown
)

// Process is one supervised process: its runner plus its log channels.
type Process struct {
	*process.Runner
	// Namespec is "name" when group == name, else "group:name".
	Namespec string

	stdout, stderr *logs.ChildLog     // nil for NONE; may be shared with other processes
	gate           StartGate          // nil unless Hooks.StartGate gave one
	lines          []*logs.LineWriter // framing of a prefixed or JSON channel (lines.go)
	restarts       *restartTracker
	adopted        bool // handed over by the previous image: not autostarted
}

// ConfigAsRead returns the process config as the config file gave it (AUTO
// logs unresolved: Info has their paths): the pending config holds this
// very value until a reread replaces it. The Runner shares it (Config).
func (p *Process) ConfigAsRead() *config.Process { return p.Config() }

// StdoutLogPath / StderrLogPath return the log file path ("" for NONE).
func (p *Process) StdoutLogPath() string { return logPath(p.stdout) }
func (p *Process) StderrLogPath() string { return logPath(p.stderr) }

// StdoutLogFile / StderrLogFile return the log file path for a reader
// ("" for NONE), creating an AUTO file first if it was not yet: a reader
// never finds an AUTO log missing, as Supervisor's exist from the start.
func (p *Process) StdoutLogFile() string { return logFile(p.stdout) }
func (p *Process) StderrLogFile() string { return logFile(p.stderr) }

// LogFile is StdoutLogFile or StderrLogFile (channel "stderr") of the
// process named namespec; found is false when there is none.
func (s *Supervisor) LogFile(namespec, channel string) (path string, found bool) {
	for _, p := range s.AllProcesses() {
		switch {
		case p.Namespec != namespec:
		case channel == "stderr":
			return p.StderrLogFile(), true
		default:
			return p.StdoutLogFile(), true
		}
	}
	return "", false
}

func logFile(l *logs.ChildLog) string {
	if l == nil {
		return ""
	}
	l.Ensure()
	return l.Path()
}

func logPath(l *logs.ChildLog) string {
	if l == nil {
		return ""
	}
	return l.Path()
}

// ClearLogs truncates both logs (clearProcessLogs) while the process has a
// child, and otherwise does nothing and succeeds: Supervisor's logs are
// those of a spawn's output dispatchers, which it drops once it has reaped
// the child. A log shared with other processes is cleared for all of them,
// as Supervisor does.
func (p *Process) ClearLogs() error {
	if p.Info().PID == 0 {
		return nil
	}
	var errs []error
	for _, l := range []*logs.ChildLog{p.stdout, p.stderr} {
		if l != nil {
			errs = append(errs, l.Clear())
		}
	}
	return errors.Join(errs...)
}

// Namespec returns Supervisor's display name of process name in group.
func Namespec(group, name string) string {
	if group == name {
		return name
	}
	return group + ":" + name
}

// Group is an active process group.
type Group struct {
	Config    *config.Group
	Processes []*Process // in the config's order (config.Group.Processes)

	seq  int                 // order of activation, ties of the priority sort
	act  *Activation         // this life of the group
	pool *eventlistener.Pool // event listener groups only
	fcgi *fcgiSocket         // FastCGI groups only
	// tookOver: an upgrade handed its processes over; the group was not
	// added (no PROCESS_GROUP_ADDED) and its pool already takes events.
	tookOver bool
}

// Activation returns the life of the group g belongs to.
func (g *Group) Activation() *Activation { return g.act }

// Supervisor owns the active groups and the pending config.
type Supervisor struct {
	opts   Options
	bus    *events.Bus        // opts.Events, or a private bus so stops can be awaited
	hub    *eventlistener.Hub // delivers events to the event listener pools
	daemon config.Supervisord // the [supervisord] section the daemon runs with
	// started is the config the daemon started with; ReloadKeeping compares
	// its sections outside the groups, which only a full reload applies.
	started   *config.Config
	keepMu    sync.Mutex           // held by a ReloadKeeping from its decision to its end
	stop      chan struct{}        // signalled by Shutdown and Restart
	ready     chan struct{}        // closed when Run has started the groups
	ran       atomic.Bool          // Run was called
	opMu      sync.Mutex           // serialises changes to the set of groups (held across I/O and waits)
	logsMu    sync.Mutex           // guards logs
	logs      map[string]*childLog // open child logs by path; guarded by logsMu
	idleLogs  *logs.IdleCloser     // closes every child log's idle file, with one timer
	autoFiles autoFiles            // creates AUTO log files after the start
	// logError is every child log's OnError, one func value for all
	// (a closure each was 16 bytes a log).
	logError func(error)

	mu      sync.Mutex
	mood    Mood              // guarded by mu
	pending *config.Config    // guarded by mu
	next    *config.Config    // what the accepted Restart validated; guarded by mu
	groups  map[string]*Group // guarded by mu
	// byName is AllProcesses' last answer and the groups it was made
	// of, by name; guarded by mu.
	byName struct {
		groups []*Group
		procs  []*Process
	}
	nextSeq int             // guarded by mu
	runCtx  context.Context // parent of the runners; nil until Run; guarded by mu
	initErr error           // why New could not create the groups; read by Run

	runners sync.WaitGroup // one per activated group, done once its runners returned; and goroutines of Activation.Go and Hooks.Loops

	ends     ends        // essential programs and exit_when_all_done (ends.go)
	restarts restartBook // restart counts by namespec (restarts.go)
	// tookOver: an upgrade handed this image its processes; the daemon did
	// not start (no SUPERVISOR_STATE_CHANGE_RUNNING). Set by New.
	tookOver bool
}

// Options are the Supervisor's collaborators.
type Options struct {
	Log     process.Logger  // main log
	Events  *events.Bus     // may be nil
	Spawner process.Spawner // nil: the real spawner
	// Load re-reads the configuration file (used by Reread and Restart); same file, same CLI overrides.
	Load      func() (*config.Config, error)
	ServerURL string   // default SUPERVISOR_SERVER_URL for children
	BaseEnv   []string // supervisord's environment at start
	// Hooks attach the features around the core (worker pools, start
	// gates, memory limits).
	Hooks Hooks
	// Adopt holds, by namespec, the processes an upgrade handed over: New
	// makes their runners start from these snapshots (see handover.go).
	Adopt map[string]Adopted
	// AdoptSockets holds, by group name, the descriptors of the FastCGI
	// sockets an upgrade handed over, which New's groups take again.
	AdoptSockets map[string]int
	// AdoptEvents is the event listener state an upgrade handed over: the
	// serials, the TICK clock, the pools New creates go on from it.
	AdoptEvents *eventlistener.Handed
}

// New returns a Supervisor for cfg with the groups of cfg created, as
// supervisord creates them before opening its servers: processes STOPPED,
// AUTO logs named (Run has their files created once the autostart
// spawns are under way). It starts nothing: Run starts the runners,
// publishes PROCESS_GROUP_ADDED and autostarts. If a log cannot be
// created (an AUTO log: childlogdir is not a writable directory), New
// opens nothing and Run returns the error.
func New(cfg *config.Config, opts Options) *Supervisor {
	bus := opts.Events
	if bus == nil {
		bus = &events.Bus{}
	}
	s := &Supervisor{
		opts:     opts,
		bus:      bus,
		daemon:   cfg.Supervisord,
		started:  cfg,
		stop:     make(chan struct{}, 1),
		ready:    make(chan struct{}),
		logs:     make(map[string]*childLog),
		idleLogs: logs.NewIdleCloser(),
		mood:     MoodRunning,
		pending:  cfg,
		groups:   make(map[string]*Group),
		hub:      eventlistener.NewHub(bus, opts.Log, cfg.Supervisord.Identifier),
	}
	s.logError = func(err error) {
		s.Logf(config.LevelError, "%v", err) // "write log <path>: …" or "rotate log <path>: …"
	}
	s.tookOver = opts.Adopt != nil || opts.AdoptEvents != nil
	if opts.AdoptEvents != nil {
		s.hub.TakeOver(*opts.AdoptEvents)
	}
	for _, gc := range cfg.Groups {
		g, err := s.newGroup(gc)
		if err != nil {
			for _, g := range s.groups {
				g.releaseLogs(s)
			}
			clear(s.groups)
			s.initErr = fmt.Errorf("create group %s: %w", gc.Name, err)
			break
		}
		s.adopt(g)
		s.insertLocked(g)
	}
	s.hub.EndTakeOver()
	s.opts.Adopt, s.opts.AdoptSockets, s.opts.AdoptEvents = nil, nil, nil // a group added later starts afresh
	return s
}

// Ready is closed once Run has started the runners and asked the autostart
// processes to start.
func (s *Supervisor) Ready() <-chan struct{} { return s.ready }

// Mood returns the daemon state.
func (s *Supervisor) Mood() Mood {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mood
}

// Groups returns the active groups sorted by priority, ties in activation
// order: Supervisor's order for "all" operations. At startup that is
// (priority, name); a group added later comes after its priority peers.
func (s *Supervisor) Groups() []*Group {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.groupsLocked()
}

func (s *Supervisor) groupsLocked() []*Group {
	gs := make([]*Group, 0, len(s.groups))
	for _, g := range s.groups {
		gs = append(gs, g)
	}
	slices.SortFunc(gs, func(a, b *Group) int {
		return cmp.Or(cmp.Compare(a.Config.Priority, b.Config.Priority), cmp.Compare(a.seq, b.seq))
	})
	return gs
}

// Group returns the active group called name, or nil.
func (s *Supervisor) Group(name string) *Group {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.groups[name]
}

// Lookup resolves a namespec: "name" (group and process name equal), "group:name",
// "group:*" / "group:" (wildcard=true, every process of the group).
// ErrBadName when nothing matches; so a bare group name only names a
// process whose name is the group's.
func (s *Supervisor) Lookup(namespec string) (procs []*Process, wildcard bool, err error) {
	group, name, found := strings.Cut(namespec, ":")
	if !found {
		name = namespec
	}
	g := s.Group(group)
	if g == nil {
		return nil, false, ErrBadName
	}
	if found && (name == "" || name == "*") {
		return slices.Clone(g.Processes), true, nil
	}
	for _, p := range g.Processes {
		if p.Config().Name == name {
			return []*Process{p}, false, nil
		}
	}
	return nil, false, ErrBadName
}

// AllProcesses returns every process sorted by group name then process name
// (getAllProcessInfo order). The groups are sorted by name only, not first
// by priority as Groups does: `status` asks for this on every call. The
// slice is shared by the callers until the set of groups changes: it must
// not be modified.
func (s *Supervisor) AllProcesses() []*Process {
	s.mu.Lock()
	if s.byNameLocked() {
		ps := s.byName.procs
		s.mu.Unlock()
		return ps
	}
	gs := make([]*Group, 0, len(s.groups))
	n := 0
	for _, g := range s.groups {
		gs = append(gs, g)
		n += len(g.Processes)
	}
	s.mu.Unlock()
	slices.SortFunc(gs, func(a, b *Group) int { return strings.Compare(a.Config.Name, b.Config.Name) })
	ps := make([]*Process, 0, n)
	for _, g := range gs {
		ps = append(ps, g.Processes...)
		if len(g.Processes) > 1 {
			slices.SortFunc(ps[len(ps)-len(g.Processes):], func(a, b *Process) int {
				return strings.Compare(a.Config().Name, b.Config().Name)
			})
		}
	}
	s.mu.Lock()
	s.byName.groups, s.byName.procs = gs, ps
	s.mu.Unlock()
	return ps
}

// byNameLocked reports whether byName still holds the active groups:
// as many as s.groups, each the one s.groups holds under its name. A
// change to a group replaces it (activation.go), so an unchanged pointer
// is an unchanged group; checking 500 is about a tenth of sorting them.
func (s *Supervisor) byNameLocked() bool {
	if s.byName.procs == nil || len(s.byName.groups) != len(s.groups) {
		return false
	}
	for _, g := range s.byName.groups {
		if s.groups[g.Config.Name] != g {
			return false
		}
	}
	return true
}

// ProcessesByPriority returns every process in Supervisor's order for "all"
// operations (startAllProcesses, stopAllProcesses, ...): groups as Groups,
// each group's processes by (priority, name).
func (s *Supervisor) ProcessesByPriority() []*Process {
	var ps []*Process
	for _, g := range s.Groups() {
		ps = append(ps, g.Processes...)
	}
	return ps
}

// PendingConfig returns the pending (last read) config.
func (s *Supervisor) PendingConfig() *config.Config {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pending
}
