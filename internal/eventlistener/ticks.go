package eventlistener

import (
	"context"
	"time"

	"github.com/drover/drover/internal/events"
)

// tickPeriods are the TICK event periods, in the order Supervisor emits them.
var tickPeriods = []int64{5, 60, 3600}

// RunTicks publishes TICK_5, TICK_60 and TICK_3600 on bus each time the
// wall clock enters a new period, until ctx is done. when is the period's
// start; nothing is published at startup, only on crossing a boundary.
func RunTicks(ctx context.Context, bus *events.Bus) {
	last := make([]int64, len(tickPeriods))
	now := time.Now().Unix()
	for i, period := range tickPeriods {
		last[i] = now - now%period
	}
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		// Wake at the next boundary of the shortest period, reckoned from
		// the wall clock each time so that clock steps are followed.
		next := time.Now().Unix()/tickPeriods[0]*tickPeriods[0] + tickPeriods[0]
		timer.Reset(time.Until(time.Unix(next, 0)))
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		now := time.Now().Unix()
		for i, period := range tickPeriods {
			if slice := now - now%period; slice != last[i] {
				last[i] = slice
				bus.Publish(events.Tick{Period: int(period), When: slice})
			}
		}
	}
}
