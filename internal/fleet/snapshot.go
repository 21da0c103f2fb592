package fleet

import (
	"time"

	"github.com/drover/drover/internal/supervisor"
	"github.com/drover/drover/internal/version"
	"github.com/drover/drover/internal/wire"
)

// Key lifetimes, in heartbeat intervals.
const (
	// ttlBeats: a node's snapshot key expires after three missed beats,
	// and the node is gone.
	ttlBeats = 3
	// staleBeats: a beat older than two intervals makes the node stale.
	staleBeats = 2
	// retentionBeats: a gone node stays listed (as gone) this long after
	// its last beat, then leaves the member set.
	retentionBeats = 20
)

// encode is the compact snapshot a node publishes.
func encode(snap supervisor.Snapshot, m memberInfo, beat time.Time) wire.FleetNode {
	n := wire.FleetNode{Name: m.name, Beat: beat.UnixMilli(), IntervalMS: m.interval.Milliseconds(),
		Version: version.Build, Labels: m.labels, Counts: map[string]int{}}
	for _, g := range snap.Groups {
		fg := wire.FleetGroup{Name: g.Name, Processes: make([]wire.FleetProcess, len(g.Processes))}
		for i, p := range g.Processes {
			state := p.State.String()
			fg.Processes[i] = wire.FleetProcess{Name: p.Name, State: state, PID: p.PID}
			n.Counts[state]++
		}
		if p := g.Pool; p != nil {
			fg.Pool = &wire.FleetPool{Workers: p.Workers, Busy: p.Busy, Target: p.Desired(),
				Min: p.Min, Max: p.Max, Queue: p.QueueName()}
			if mine, total, limit, ok := m.leases.Share(g.Name); ok {
				fg.Pool.FleetMax, fg.Pool.FleetTotal, fg.Pool.Leased = limit, total, mine
			}
			fg.Pool.QueueFigures = queueFigures(p)
		}
		n.Groups = append(n.Groups, fg)
	}
	return n
}

// queueFigures is a scaling pool's last queue sample, nil before the
// first one and for a pool that does not scale.
func queueFigures(p *supervisor.WorkerPool) *wire.FleetQueue {
	if !p.Scaling || p.SampledAt.IsZero() {
		return nil
	}
	s := p.Sample
	return &wire.FleetQueue{Ready: s.Ready, Due: s.Due, Delayed: s.Delayed, Reserved: s.Reserved, Expired: s.Expired,
		OldestWaitMS: s.OldestWait.Milliseconds(), SampledMS: p.SampledAt.UnixMilli(), Unreachable: !p.QueueOK}
}

// classify says what a reader at now makes of a node that last beat at
// beat with the given heartbeat interval; present says whether its
// snapshot key still exists.
func classify(now, beat time.Time, interval time.Duration, present bool) string {
	switch {
	case !present:
		return wire.FleetGone
	case now.Sub(beat) > staleBeats*interval:
		return wire.FleetStale
	}
	return wire.FleetUp
}
