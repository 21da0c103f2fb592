package web

import (
	"sync"
	"time"

	"github.com/drover/drover/internal/events"
)

// restartWindow is the span of the "restarts in the last hour" tile.
const restartWindow = time.Hour

// maxRecentRestarts bounds the restart times kept for that tile: beyond it
// the tile shows the bound (a crash loop of 500 processes stays cheap).
const maxRecentRestarts = 10000

// restartTracker counts restarts from the process state events: every
// spawn of a process after its first one since the daemon started
// (crashes, retries, manual restarts alike).
type restartTracker struct {
	mu      sync.Mutex
	started map[procKey]int // spawns per process; guarded by mu
	recent  []time.Time     // restart times, oldest first, at most maxRecentRestarts; guarded by mu
}

type procKey struct{ group, name string }

func newRestartTracker() *restartTracker {
	return &restartTracker{started: map[procKey]int{}}
}

// follow takes the events of sub until the daemon begins to stop (then the
// page's periodic refresh still shows the shutdown), calling changed after
// each batch that may change what the page shows.
func (t *restartTracker) follow(sub *events.Subscription, changed func()) {
	defer sub.Close()
	for range sub.Ready() {
		stopping := false
		for _, e := range sub.Next() {
			switch e := e.(type) {
			case events.ProcessState:
				t.observe(e)
			case events.ProcessGroupRemoved:
				t.forgetGroup(e.Group)
			case events.SupervisorStopping:
				stopping = true
			}
		}
		changed()
		if stopping {
			return
		}
	}
}

func (t *restartTracker) observe(e events.ProcessState) {
	if e.To != "STARTING" {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	k := procKey{e.Group, e.Process}
	t.started[k]++
	if t.started[k] == 1 {
		return
	}
	if len(t.recent) == maxRecentRestarts {
		t.recent = append(t.recent[:0], t.recent[1:]...)
	}
	t.recent = append(t.recent, time.Now())
}

func (t *restartTracker) forgetGroup(group string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for k := range t.started {
		if k.group == group {
			delete(t.started, k)
		}
	}
}

// count returns a process's restarts.
func (t *restartTracker) count(group, name string) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return max(t.started[procKey{group, name}]-1, 0)
}

// lastHour returns the restarts of the last hour, dropping older ones.
func (t *restartTracker) lastHour() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	cut := time.Now().Add(-restartWindow)
	i := 0
	for i < len(t.recent) && t.recent[i].Before(cut) {
		i++
	}
	t.recent = t.recent[i:]
	return len(t.recent)
}
