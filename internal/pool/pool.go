package pool

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/queue"
	"github.com/drover/drover/internal/supervisor"
)

// ErrNotRollable is returned for a group a rolling restart cannot replace;
// rpc answers it with the CANNOT_ROLL fault. Its text starts every detail
// ("cannot roll: ...").
var ErrNotRollable = errors.New("cannot roll")

// Options are the pools' collaborators.
type Options struct {
	// Queues opens the queue source of a scaling pool; nil: Redis (queue.Open).
	Queues func(config.QueueSource) queue.Source
	// Limiter is asked before a scaler grows its pool and told when it
	// shrinks; nil: no limit beyond the pool's bounds.
	Limiter Limiter
}

// Pools are the worker pools of a Supervisor's program groups. Make them
// with New, give Hooks to supervisor.New, then Bind the Supervisor before
// it runs.
type Pools struct {
	opts Options
	s    *supervisor.Supervisor

	mu   sync.Mutex
	m    map[string]*workerPool // by group name: the latest started activation
	jobs jobBook
	// adopted is what an upgrade handed over, by group name, until that
	// group's pool starts (TakeOver).
	adopted map[string]Handed
}

// New returns the pools; they act once bound to a Supervisor.
func New(opts Options) *Pools {
	return &Pools{opts: opts, m: map[string]*workerPool{}}
}

// Hooks adds the pools' hooks to h: the scaler and restart watcher of
// each program group as it starts, job-line tracking, the pool report of
// Snapshot and rolling updates for reloads keeping unchanged programs.
func (m *Pools) Hooks(h supervisor.Hooks) supervisor.Hooks {
	h.Started, h.Output, h.Pool, h.Busy, h.Replace, h.Hold = m.started, m.jobs.track, m.status, m.jobs.busy, m.replace, m.hold
	return h
}

// hold keeps the pool of group name from rolling or scaling until release
// (supervisor.Hooks.Hold); a group without a pool holds at once. A roll in
// progress is not stopped: it goes on until the freeze stops its
// processes, and is handed over where it then stands (HandOver), as are
// the workers the scaler drains. It refuses while a scaling decision is
// in progress, while a rolling update removes processes the new image
// could not take over, and while a roll pinned to this image
// (PinToImage) runs.
func (m *Pools) hold(name string) (release func(), err error) {
	m.mu.Lock()
	pl := m.m[name]
	m.mu.Unlock()
	if pl == nil {
		return func() {}, nil
	}
	if !pl.roll.TryLock() {
		pl.mu.Lock()
		defer pl.mu.Unlock()
		switch {
		case pl.rolling == nil:
			// The freeze tries again: no next decision may start first.
			pl.holdWanted = time.Now().Add(holdWantedFor)
			return nil, errDeciding
		case pl.rollDrops > 0:
			return nil, fmt.Errorf("a rolling update that removes %d process(es) no longer in the configuration is in progress", pl.rollDrops)
		case pl.rollPinned != "":
			return nil, fmt.Errorf("a rolling restart is in progress for %s, which waits for it in this image", pl.rollPinned)
		}
		// The scaler must not decide in the moment the roll ends.
		pl.frozen = true
		return func() {
			pl.mu.Lock()
			pl.frozen = false
			pl.mu.Unlock()
		}, nil
	}
	return pl.roll.Unlock, nil
}

// holdWantedFor is how long a freeze that found the scaler deciding keeps
// the next decision from starting: longer than its retries' interval.
const holdWantedFor = time.Second

// Bind gives the pools the Supervisor made with their hooks; call it
// before Run.
func (m *Pools) Bind(s *supervisor.Supervisor) { m.s = s }

// A workerPool is the runtime side of one activation of a program group:
// which of its processes are being drained, what its scaler last saw, and
// its run-time bounds.
type workerPool struct {
	act  *supervisor.Activation
	name string

	// roll serialises rolling restarts and scaling decisions; a rolling
	// restart holds it throughout, the scaler only tries it.
	roll sync.Mutex

	mu       sync.Mutex
	draining map[*supervisor.Process]bool // being stopped by the scaler; nil until one is (markDraining)
	status   *supervisor.WorkerPool       // nil until a scaler, a roll or a hand-over reports (report): most groups never do
	bounds   bounds                       // set at run time
	held     int                          // workers acquired from the Limiter
	wake     chan struct{}                // nil without a scaler: every program is a group with a pool record
	// rolling is the roll in progress, nil when none; rollDrops counts
	// the processes it removes at the end (a rolling update).
	rolling    *RollState
	rollDrops  int
	rollPinned string // see PinToImage
	frozen     bool   // held for an upgrade while a roll runs: no scaling decision
	// holdWanted: an upgrade's freeze waits for the decision in progress,
	// and no other starts until then.
	holdWanted time.Time
}

// markDraining notes p as being stopped by the scaler; pl.mu is held.
func (pl *workerPool) markDraining(p *supervisor.Process) {
	if pl.draining == nil {
		pl.draining = map[*supervisor.Process]bool{}
	}
	pl.draining[p] = true
}

// setRoll publishes st as pl's roll in progress (nil: none).
func (pl *workerPool) setRoll(st *RollState, drops int) {
	pl.mu.Lock()
	pl.rolling, pl.rollDrops = st, drops
	pl.mu.Unlock()
}

// updateRoll changes the roll in progress; HandOver reads it meanwhile.
func (pl *workerPool) updateRoll(change func()) {
	pl.mu.Lock()
	change()
	pl.mu.Unlock()
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

// started registers the pool of a program group whose runners start and
// starts its scaler and restart watcher (supervisor.Hooks.Started: the
// Supervisor's lock is held, so this only records and starts goroutines).
func (m *Pools) started(g *supervisor.Group) {
	a := g.Activation()
	pl := &workerPool{act: a, name: a.Name()}
	if g.Config.Scaling != nil {
		pl.wake = make(chan struct{}, 1)
	}
	m.mu.Lock()
	m.m[pl.name] = pl
	h, adopted := m.adopted[pl.name]
	delete(m.adopted, pl.name)
	m.mu.Unlock()
	if adopted {
		for _, p := range pl.takeOver(h, g, m.opts.Limiter != nil) {
			a.Go("pool "+pl.name+": shrink", func() { m.drain(pl.act.Context(), pl, p) })
		}
		// Taken now, before the scaler can try it.
		if st := resumable(h); st != nil {
			pl.roll.Lock()
			a.Go("pool "+pl.name+": rolling restart", func() { m.resumeRoll(pl, st) })
		}
	}
	if g.Config.Scaling != nil {
		a.Go("pool "+pl.name+": scaler", func() { m.runScaler(pl) })
	}
	if w := g.Config.RestartWatch; w != nil {
		a.Go("pool "+pl.name+": restart watch", func() { m.watchRestartKey(pl, *w) })
	}
}

// poolOf returns the pool of the active group called name and that group.
func (m *Pools) poolOf(name string) (*workerPool, *supervisor.Group, error) {
	g := m.s.Group(name)
	if g == nil {
		return nil, nil, supervisor.ErrBadName
	}
	pl := m.current(g)
	if pl == nil {
		return nil, nil, fmt.Errorf("%w: group %s is not a started program group", ErrNotRollable, name)
	}
	return pl, g, nil
}

// current returns the pool of g's activation, nil when it has none.
func (m *Pools) current(g *supervisor.Group) *workerPool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if pl := m.m[g.Config.Name]; pl != nil && pl.act == g.Activation() {
		return pl
	}
	return nil
}

// WorkerPools reports every active program group's pool, by group name.
func (m *Pools) WorkerPools() []supervisor.WorkerPool {
	var out []supervisor.WorkerPool
	for _, g := range m.s.Groups() {
		if st, ok := m.status(g); ok {
			out = append(out, st)
		}
	}
	slices.SortFunc(out, func(a, b supervisor.WorkerPool) int { return strings.Compare(a.Group, b.Group) })
	return out
}

// status reports the pool of g; false when g is not a started program group.
func (m *Pools) status(g *supervisor.Group) (supervisor.WorkerPool, bool) {
	pl := m.current(g)
	if pl == nil {
		return supervisor.WorkerPool{}, false
	}
	pl.mu.Lock()
	st := pl.statusLocked()
	st.Draining = len(pl.draining)
	workers, busy := 0, 0
	for _, p := range g.Processes {
		if p.Info().State.IsRunning() && !pl.draining[p] {
			workers++
			busy += boolInt(m.jobs.busy(p))
		}
	}
	pl.mu.Unlock()
	st.Workers, st.Busy, st.Processes = workers, busy, len(g.Processes)
	st.Jobs = m.jobs.finished(g.Config.Name)
	st.Min, st.Max = len(g.Config.Processes), len(g.Config.Processes)
	if sc := g.Config.Scaling; sc != nil {
		st.Scaling, st.Queue, st.QueueNames = true, sc.Queue.Display, sc.Queue.Keys
		st.Min, st.Max = pl.limits(sc)
	}
	return st, true
}

// SetPoolBounds sets the size bounds of the scaling pool group until its
// configuration changes; its scaler decides with them at once (when its
// queue answers: a pool whose queue is unreachable holds its size).
// supervisor.ErrBadName for no such group; ErrBadBounds for a group that
// does not scale or bounds outside 1 <= min <= max <= numprocs_max.
func (m *Pools) SetPoolBounds(group string, lo, hi int) error {
	pl, g, err := m.poolOf(group)
	switch {
	case errors.Is(err, ErrNotRollable):
		return fmt.Errorf("%w: %s is not a worker pool", supervisor.ErrBadName, group)
	case err != nil:
		return err
	}
	sc := g.Config.Scaling
	switch {
	case sc == nil:
		return fmt.Errorf("%w: %s does not scale (no numprocs_max)", ErrBadBounds, group)
	case lo < 1 || lo > hi:
		return fmt.Errorf("%w: want 1 <= min <= max, got min %d, max %d", ErrBadBounds, lo, hi)
	case hi > sc.Max:
		return fmt.Errorf("%w: max %d is beyond numprocs_max (%d)", ErrBadBounds, hi, sc.Max)
	}
	pl.mu.Lock()
	pl.bounds = bounds{on: sc, min: lo, max: hi}
	pl.mu.Unlock()
	m.s.Logf(config.LevelInfo, "pool %s: bounds set to [%d-%d]", group, lo, hi)
	select {
	case pl.wake <- struct{}{}:
	default:
	}
	return nil
}

// stopAndRemove stops p gracefully (its stopsignal, SIGKILL only after
// stopwaitsecs, as any stop; a stop in progress is waited for) and then
// removes it from the group.
func (pl *workerPool) stopAndRemove(ctx context.Context, p *supervisor.Process) error {
	if err := stopAll(ctx, []*supervisor.Process{p}); err != nil {
		return err
	}
	if !p.Info().State.IsStopped() {
		return fmt.Errorf("stop %s: still %s", p.Namespec, p.Info().State)
	}
	pl.remove(p)
	return nil
}

// remove drops p from the group and from the drained.
func (pl *workerPool) remove(p *supervisor.Process) {
	pl.act.RemoveProcess(p)
	pl.mu.Lock()
	delete(pl.draining, p)
	pl.mu.Unlock()
}

// freeSlots returns the configs of the pool's slots not in use by g, lowest
// process_num first, among the first limit of the configured processes
// followed by the spares.
func freeSlots(g *supervisor.Group, limit int) []*config.Process {
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

func (pl *workerPool) setStatus(update func(*supervisor.WorkerPool)) {
	pl.mu.Lock()
	update(pl.report())
	pl.mu.Unlock()
}

// report returns pl's status record to change, made at the first change
// (a pool record per program with room for a scaler's report was 0.5 KB
// a program); pl.mu is held.
func (pl *workerPool) report() *supervisor.WorkerPool {
	if pl.status == nil {
		pl.status = &supervisor.WorkerPool{Group: pl.name}
	}
	return pl.status
}

// statusLocked returns a copy of pl's status; pl.mu is held.
func (pl *workerPool) statusLocked() supervisor.WorkerPool {
	if pl.status == nil {
		return supervisor.WorkerPool{Group: pl.name}
	}
	return *pl.status
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
