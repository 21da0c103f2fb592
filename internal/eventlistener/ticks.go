package eventlistener

import (
	"context"
	"sync"
	"time"

	"github.com/drover/drover/internal/events"
)

// tickPeriods are the TICK event periods, in the order Supervisor emits them.
var tickPeriods = []int64{5, 60, 3600}

// ticker is the TICK clock: the start of the period each TICK event was
// last published for. An upgrade holds it (mu) and hands last over, so the
// new image publishes a boundary crossed during the switch, once.
type ticker struct {
	mu   sync.Mutex
	last []int64 // by tickPeriods; guarded by mu
}

// newTicker starts at the current periods: nothing is published at
// startup, only on crossing a boundary.
func newTicker() *ticker {
	now := time.Now().Unix()
	t := &ticker{last: make([]int64, len(tickPeriods))}
	for i, period := range tickPeriods {
		t.last[i] = now - now%period
	}
	return t
}

// run publishes TICK_5, TICK_60 and TICK_3600 on bus each time the wall
// clock enters a new period, until ctx is done; when is the period's start.
// A boundary crossed since last (during an upgrade) is published at once.
func (t *ticker) run(ctx context.Context, bus *events.Bus) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		t.publish(bus)
		// Wake at the next boundary of the shortest period, reckoned from
		// the wall clock each time so that clock steps are followed.
		next := time.Now().Unix()/tickPeriods[0]*tickPeriods[0] + tickPeriods[0]
		timer.Reset(time.Until(time.Unix(next, 0)))
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
	}
}

// publish publishes a TICK event for each period the clock has left.
func (t *ticker) publish(bus *events.Bus) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := time.Now().Unix()
	for i, period := range tickPeriods {
		if slice := now - now%period; slice != t.last[i] {
			t.last[i] = slice
			bus.Publish(events.Tick{Period: int(period), When: slice})
		}
	}
}
