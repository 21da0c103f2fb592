package supervisor

import (
	"context"
	"sync"
	"sync/atomic"
)

// RestartReason says why a process was started again.
type RestartReason int

const (
	// RestartCrash: the process exited unexpectedly, or died before
	// startsecs, and its runner started it again on its own (autorestart,
	// a BACKOFF retry).
	RestartCrash RestartReason = iota
	// RestartMemoryLimit: its tree went over memory_limit.
	RestartMemoryLimit
	// RestartRolling: a rolling restart or rolling update replaced it.
	RestartRolling
	// RestartManual: a client (supervisorctl, XML-RPC, the web page)
	// started it again after it had run.
	RestartManual
	restartReasons
)

// String returns the reason as the metrics label it: "crash",
// "memory_limit", "rolling" or "manual".
func (r RestartReason) String() string {
	return [...]string{"crash", "memory_limit", "rolling", "manual"}[r]
}

// RestartCounts counts the restarts of a process by reason
// (RestartCounts[RestartCrash], ...).
type RestartCounts [restartReasons]uint64

// Total is the sum over every reason.
func (c RestartCounts) Total() uint64 {
	var n uint64
	for _, v := range c {
		n += v
	}
	return n
}

// restartBook holds the restart counts of every namespec that ever ran, so
// that they survive a process being replaced (rolling update, the scaler
// removing and adding a worker, update) as Prometheus counters must.
type restartBook struct {
	mu     sync.Mutex
	counts map[string]*restartCounters
}

type restartCounters [restartReasons]atomic.Uint64

func (b *restartBook) tracker(namespec string) *restartTracker {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.counts == nil {
		b.counts = map[string]*restartCounters{}
	}
	c := b.counts[namespec]
	if c == nil {
		c = new(restartCounters)
		b.counts[namespec] = c
	}
	return &restartTracker{counts: c}
}

// restartTracker attributes each spawn of one Process: the first is a
// start, not a restart; a later one is a restart for the reason its
// starter gave, or a crash when the runner spawned on its own.
type restartTracker struct {
	counts  *restartCounters
	pending atomic.Int32 // 1 + the reason of the start under way; 0 for none
	spawned atomic.Bool
}

// expect says the next spawn is a restart for reason.
func (t *restartTracker) expect(reason RestartReason) { t.pending.Store(int32(reason) + 1) }

// beforeSpawn runs in the runner before each spawn attempt.
func (t *restartTracker) beforeSpawn() {
	again := t.spawned.Swap(true)
	switch r := t.pending.Swap(0); {
	case r > 0 && (again || RestartReason(r-1) != RestartManual):
		t.counts[r-1].Add(1)
	case r == 0 && again:
		t.counts[RestartCrash].Add(1)
	}
}

func (t *restartTracker) snapshot() RestartCounts {
	var c RestartCounts
	for i := range c {
		c[i] = t.counts[i].Load()
	}
	return c
}

// ExpectRestart says the process's next spawn is a restart for reason
// (a rolling restart that is about to start it again).
func (p *Process) ExpectRestart(reason RestartReason) { p.restarts.expect(reason) }

// StartFor is Start for a start that is a restart for reason when the
// process has run before (a client's start is RestartManual).
func (p *Process) StartFor(ctx context.Context, wait bool, reason RestartReason) error {
	return p.restarts.attribute(reason, func() error { return p.Start(ctx, wait) })
}

// AutostartFor is Autostart (a start by the daemon itself, which goes
// through spawn errors) attributed like StartFor.
func (p *Process) AutostartFor(ctx context.Context, reason RestartReason) error {
	return p.restarts.attribute(reason, func() error { return p.Autostart(ctx) })
}

// attribute runs start expecting its spawn to be a restart for reason; a
// start that fails before spawning takes the expectation back.
func (t *restartTracker) attribute(reason RestartReason, start func() error) error {
	t.expect(reason)
	err := start()
	if err != nil {
		t.pending.CompareAndSwap(int32(reason)+1, 0)
	}
	return err
}
