package supervisor

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
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

// RecentRestartsWindow is the span of Snapshot.RecentRestarts.
const RecentRestartsWindow = time.Hour

// maxRecentRestarts bounds the restart times kept for RecentRestarts:
// beyond it the oldest are forgotten, so a crash loop of 500 processes
// stays cheap and the figure shows the bound.
const maxRecentRestarts = 10000

// restartBook holds the restart counts of every namespec that ever ran, so
// that they survive a process being replaced (rolling update, the scaler
// removing and adding a worker, update) as Prometheus counters must, and
// the times of the latest restarts of all of them.
type restartBook struct {
	mu     sync.Mutex
	counts map[string]*restartCounters // guarded by mu
	recent []time.Time                 // oldest first, at most maxRecentRestarts; guarded by mu
}

// noteRestart records a restart at now.
func (b *restartBook) noteRestart(now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.recent) == maxRecentRestarts {
		b.recent = b.recent[1:] // append moves the rest once the capacity is used
	}
	b.recent = append(b.recent, now)
}

// since returns how many restarts happened after cut, forgetting older ones.
func (b *restartBook) since(cut time.Time) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	i := 0
	for i < len(b.recent) && !b.recent[i].After(cut) {
		i++
	}
	b.recent = b.recent[i:]
	return len(b.recent)
}

type restartCounters [restartReasons]atomic.Uint64

// tracker returns a tracker for a process of namespec, with the counts
// its namespec has so far. A namespec gets counters at its first restart:
// most processes never restart, and a map entry with its counters is
// about 85 bytes.
func (b *restartBook) tracker(namespec string) *restartTracker {
	b.mu.Lock()
	defer b.mu.Unlock()
	t := &restartTracker{book: b}
	if c := b.counts[namespec]; c != nil {
		t.counts.Store(c)
	}
	return t
}

// countersOf returns the counters of namespec, made on first use.
func (b *restartBook) countersOf(namespec string) *restartCounters {
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
	return c
}

// restartTracker attributes each spawn of one Process: the first is a
// start, not a restart; a later one is a restart for the reason its
// starter gave, or a crash when the runner spawned on its own.
type restartTracker struct {
	book    *restartBook
	counts  atomic.Pointer[restartCounters] // nil until the namespec's first restart
	pending atomic.Int32                    // 1 + the reason of the start under way; 0 for none
	spawned atomic.Bool
}

// expect says the next spawn is a restart for reason.
func (t *restartTracker) expect(reason RestartReason) { t.pending.Store(int32(reason) + 1) }

// beforeSpawn runs in the runner of namespec's process before each spawn
// attempt.
func (t *restartTracker) beforeSpawn(namespec string) {
	again := t.spawned.Swap(true)
	reason := RestartCrash
	switch r := t.pending.Swap(0); {
	case r > 0 && (again || RestartReason(r-1) != RestartManual):
		reason = RestartReason(r - 1)
	case r == 0 && again:
	default:
		return // a first start
	}
	c := t.counts.Load()
	if c == nil {
		c = t.book.countersOf(namespec)
		t.counts.Store(c)
	}
	c[reason].Add(1)
	t.book.noteRestart(time.Now())
}

func (t *restartTracker) snapshot() RestartCounts {
	var c RestartCounts
	if counts := t.counts.Load(); counts != nil {
		for i := range c {
			c[i] = counts[i].Load()
		}
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
