package supervisor

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/guard"
	poolapi "github.com/drover/drover/internal/pool"
	"github.com/drover/drover/internal/process"
	"github.com/drover/drover/internal/queue"
)

// ErrNotRollable is returned for a group a rolling restart cannot replace.
var ErrNotRollable = errors.New("cannot roll")

// errPoolGone says the group was removed or replaced during a pool operation.
var errPoolGone = errors.New("group is no longer active")

// WorkerPool is what WorkerPools reports for one program group.
type WorkerPool struct {
	Group      string
	Scaling    bool // numprocs_max is set
	Min, Max   int  // numprocs_min, numprocs_max (both numprocs when not scaling)
	Workers    int  // live processes (STARTING, RUNNING, BACKOFF) not being drained
	Busy       int  // live workers whose output says they run a job (Laravel's job lines)
	Draining   int  // processes being stopped by the scaler
	Processes  int  // processes in the group, any state
	Target     int  // size the last decision asked for
	Queue      string
	QueueOK    bool   // the last sample succeeded
	QueueError string // why the last sample failed
	Sample     queue.Sample
	SampledAt  time.Time
	Decision   string // reason of the last decision, or why none was made
	DecidedAt  time.Time
	LastResize time.Time
	Rolling    string    // progress of a rolling restart, "" when none runs
	QueueNames []string  // the Laravel queues or list keys sampled
	Decisions  Decisions // scaling decisions made since the group started
	Jobs       JobCounts // jobs finished per the job lines (scaling pools only)
}

// Decisions counts a scaler's decisions by what they did to the pool.
type Decisions struct {
	Up, Down, Hold uint64
}

// A workerPool is the runtime side of one activation of a program group:
// the processes it added beyond the configured ones (autoscaling, rolling
// restarts) and what its scaler last saw.
type workerPool struct {
	name string
	done chan struct{}   // the activation's Group.done: identifies it
	ctx  context.Context // the group's runner context

	// roll serialises rolling restarts and scaling decisions; a rolling
	// restart holds it throughout, the scaler only tries it.
	roll sync.Mutex

	mu       sync.Mutex
	added    map[*Process]context.CancelFunc // runners started by the pool
	draining map[*Process]bool               // being stopped by the scaler
	status   WorkerPool
	bounds   bounds        // set at run time; guarded by mu
	wake     chan struct{} // a decision is due now (new bounds)
	held     int           // workers acquired from Options.Limiter; guarded by mu
}

// bounds are run-time pool bounds, valid for the scaling config they were
// set on: a new config (update, rolling update) brings its own.
type bounds struct {
	on       *config.Scaling
	min, max int
}

// limits returns the bounds the scaler keeps to under sc.
func (pl *workerPool) limits(sc *config.Scaling) (lo, hi int) {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	if pl.bounds.on == sc {
		return pl.bounds.min, pl.bounds.max
	}
	return sc.Min, sc.Max
}

// workerPools holds the pool of every activated program group by name,
// and the job trackers of the scaling programs' processes by namespec.
type workerPools struct {
	mu        sync.Mutex
	m         map[string]*workerPool
	jobs      map[string]*jobTracker
	jobCounts map[string]*jobCounters // by group name
}

// startPool registers the pool of a group being started and starts its
// scaler and restart watcher, which end with ctx. Called with s.mu held.
func (s *Supervisor) startPool(ctx context.Context, g *Group) {
	if g.Config.Kind != config.KindProgram {
		return
	}
	pl := &workerPool{name: g.Config.Name, done: g.done, ctx: ctx, wake: make(chan struct{}, 1),
		added: map[*Process]context.CancelFunc{}, draining: map[*Process]bool{}}
	pl.status.Group = pl.name
	s.pools.mu.Lock()
	if s.pools.m == nil {
		s.pools.m = map[string]*workerPool{}
	}
	s.pools.m[pl.name] = pl
	s.pools.mu.Unlock()
	if g.Config.Scaling != nil {
		guard.Go("pool "+pl.name+": scaler", func() { s.runScaler(ctx, pl) })
	}
	if g.Config.RestartWatch != nil {
		guard.Go("pool "+pl.name+": restart watch", func() { s.watchRestartKey(ctx, pl, *g.Config.RestartWatch) })
	}
}

// poolOf returns the pool of the active group called name and that group.
func (s *Supervisor) poolOf(name string) (*workerPool, *Group, error) {
	s.mu.Lock()
	g := s.groups[name]
	s.mu.Unlock()
	if g == nil {
		return nil, nil, ErrBadName
	}
	s.pools.mu.Lock()
	pl := s.pools.m[name]
	s.pools.mu.Unlock()
	if pl == nil || pl.done != g.done {
		return nil, nil, fmt.Errorf("%w: group %s is not a started program group", ErrNotRollable, name)
	}
	return pl, g, nil
}

// current returns the active group of pl's activation, nil once it is gone.
func (s *Supervisor) current(pl *workerPool) *Group {
	s.mu.Lock()
	defer s.mu.Unlock()
	if g := s.groups[pl.name]; g != nil && g.done == pl.done {
		return g
	}
	return nil
}

// WorkerPools reports every active program group's pool, by group name.
func (s *Supervisor) WorkerPools() []WorkerPool {
	var out []WorkerPool
	for _, g := range s.Groups() {
		if st, ok := s.poolStatus(g); ok {
			out = append(out, st)
		}
	}
	slices.SortFunc(out, func(a, b WorkerPool) int { return strings.Compare(a.Group, b.Group) })
	return out
}

// poolStatus reports the pool of g; false when g is not a started program group.
func (s *Supervisor) poolStatus(g *Group) (WorkerPool, bool) {
	s.pools.mu.Lock()
	pl := s.pools.m[g.Config.Name]
	s.pools.mu.Unlock()
	if pl == nil || pl.done != g.done {
		return WorkerPool{}, false
	}
	pl.mu.Lock()
	st := pl.status
	st.Draining = len(pl.draining)
	workers, busy := 0, 0
	for _, p := range g.Processes {
		if p.Info().State.IsRunning() && !pl.draining[p] {
			workers++
			busy += boolInt(s.busy(p))
		}
	}
	pl.mu.Unlock()
	st.Workers, st.Busy, st.Processes = workers, busy, len(g.Processes)
	st.Jobs = s.jobsFinished(g.Config.Name)
	st.Min, st.Max = len(g.Config.Processes), len(g.Config.Processes)
	if sc := g.Config.Scaling; sc != nil {
		st.Scaling, st.Queue, st.QueueNames = true, sc.Queue.Display, sc.Queue.Keys
		st.Min, st.Max = pl.limits(sc)
	}
	return st, true
}

// SetPoolBounds sets the size bounds of the scaling pool group until its
// configuration changes; the scaler decides with them at once.
// ErrBadName for no such group, ErrBadBounds for a pool that does not
// scale or bounds outside 1 <= min <= max <= numprocs_max.
func (s *Supervisor) SetPoolBounds(group string, lo, hi int) error {
	pl, g, err := s.poolOf(group)
	switch {
	case errors.Is(err, ErrNotRollable):
		return ErrBadName
	case err != nil:
		return err
	}
	sc := g.Config.Scaling
	switch {
	case sc == nil:
		return fmt.Errorf("%w: %s does not scale (no numprocs_max)", poolapi.ErrBadBounds, group)
	case lo < 1 || lo > hi:
		return fmt.Errorf("%w: want 1 <= min <= max, got min %d, max %d", poolapi.ErrBadBounds, lo, hi)
	case hi > sc.Max:
		return fmt.Errorf("%w: max %d is beyond numprocs_max (%d)", poolapi.ErrBadBounds, hi, sc.Max)
	}
	pl.mu.Lock()
	pl.bounds = bounds{on: sc, min: lo, max: hi}
	pl.mu.Unlock()
	s.logf(config.LevelInfo, "pool %s: bounds set to [%d-%d]", group, lo, hi)
	select {
	case pl.wake <- struct{}{}:
	default:
	}
	return nil
}

// addProcess creates a process from pc in pl's group and starts its runner
// (not the process). The group gets a new Processes slice.
func (s *Supervisor) addProcess(pl *workerPool, pc *config.Process) (*Process, error) {
	s.opMu.Lock()
	defer s.opMu.Unlock()
	if s.Mood() != MoodRunning {
		return nil, ErrShuttingDown
	}
	g := s.current(pl)
	if g == nil {
		return nil, errPoolGone
	}
	for _, p := range g.Processes {
		if p.Config().Name == pc.Name {
			return nil, fmt.Errorf("add %s: %w", pc.Name, ErrAlreadyAdded)
		}
	}
	p, err := s.newProcess(pc, nil)
	if err != nil {
		return nil, fmt.Errorf("add %s: %w", pc.Name, err)
	}
	ctx, cancel := context.WithCancel(pl.ctx)
	s.runners.Go(func() {
		defer s.releaseProcessLogs(p)
		guard.Run("program "+p.Namespec, func() {
			if err := p.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
				s.logf(config.LevelError, "run %s: %v", p.Namespec, err)
			}
		})
	})
	pl.mu.Lock()
	pl.added[p] = cancel
	pl.mu.Unlock()
	s.mu.Lock()
	ng := *g
	ng.Processes = append(slices.Clone(g.Processes), p)
	slices.SortStableFunc(ng.Processes, func(a, b *Process) int {
		ac, bc := a.Config(), b.Config()
		return cmp.Or(cmp.Compare(ac.Priority, bc.Priority), strings.Compare(ac.Name, bc.Name))
	})
	s.groups[pl.name] = &ng
	s.mu.Unlock()
	return p, nil
}

// removeProcess drops a stopped process from pl's group. The runner of a
// process the pool added ends; a configured one stays idle (STOPPED, out of
// sight) until the group ends, as its runner belongs to the group.
func (s *Supervisor) removeProcess(pl *workerPool, p *Process) {
	s.opMu.Lock()
	defer s.opMu.Unlock()
	pl.mu.Lock()
	cancel := pl.added[p]
	delete(pl.added, p)
	delete(pl.draining, p)
	pl.mu.Unlock()
	if cancel != nil {
		defer cancel()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.groups[pl.name]
	if g == nil || g.done != pl.done {
		return
	}
	ng := *g
	ng.Processes = slices.DeleteFunc(slices.Clone(g.Processes), func(q *Process) bool { return q == p })
	s.groups[pl.name] = &ng
}

// stopAndRemove stops p gracefully (its stopsignal, SIGKILL only after
// stopwaitsecs, as any stop) and then removes it from the group.
func (s *Supervisor) stopAndRemove(ctx context.Context, pl *workerPool, p *Process) error {
	err := p.Stop(ctx, true)
	if err != nil && !errors.Is(err, process.ErrNotRunning) {
		return fmt.Errorf("stop %s: %w", p.Namespec, err)
	}
	if !p.Info().State.IsStopped() {
		return fmt.Errorf("stop %s: still %s", p.Namespec, p.Info().State)
	}
	s.removeProcess(pl, p)
	return nil
}

// freeSlots returns the configs of the pool's slots not in use by g, lowest
// process_num first, among the first limit of the configured processes
// followed by the spares.
func freeSlots(g *Group, limit int) []*config.Process {
	used := map[string]bool{}
	for _, p := range g.Processes {
		used[p.Config().Name] = true
	}
	all := append(slices.Clone(g.Config.Processes), g.Config.Spares...)
	var free []*config.Process
	for i, pc := range all {
		if i < limit && !used[pc.Name] {
			free = append(free, pc)
		}
	}
	return free
}

func (pl *workerPool) setStatus(update func(*WorkerPool)) {
	pl.mu.Lock()
	update(&pl.status)
	pl.mu.Unlock()
}
