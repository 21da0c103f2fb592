package autoscale

import (
	"fmt"
	"time"
)

// Inputs are the facts one scaling decision is made from.
type Inputs struct {
	// Workers are the pool's live workers (STARTING, RUNNING, BACKOFF).
	// Draining workers (being stopped) are not capacity and not counted here.
	Workers  int
	Draining int // workers being stopped; reported in the reason only

	Ready      int           // jobs waiting in the queue lists
	Due        int           // delayed jobs whose time has come (ready at the next pop)
	Reserved   int           // jobs in flight (a worker holds them)
	OldestWait time.Duration // how long the oldest ready job has waited (0: unknown or none)

	Min, Max      int           // numprocs_min, numprocs_max
	Step          int           // most workers added or removed by one decision
	JobsPerWorker int           // waiting jobs one extra worker is expected to absorb
	MaxWait       time.Duration // grow by a step when OldestWait exceeds it; 0: off
	Cooldown      time.Duration // least time between two resizes
	LastChange    time.Time     // when the pool was last resized (zero: never)
	Now           time.Time
}

// Decision is the pool size wanted next and why.
type Decision struct {
	Target int
	Reason string
}

// Decide returns the pool size to move to. The rule:
//
//	want = min(Reserved, Workers) + ceil((Ready + Due) / JobsPerWorker)
//
// — busy workers keep their job, every waiting job batch gets a worker — raised
// to Workers+Step when the oldest job has waited longer than MaxWait, then
// clamped to [Min, Max]. A pool outside [Min, Max] returns to it at once;
// otherwise a change waits out the cooldown and moves at most Step. Because
// busy workers are part of want, a pool whose workers are all busy never
// shrinks, and draining workers never hold back growth.
func Decide(in Inputs) Decision {
	step := max(in.Step, 1)
	perWorker := max(in.JobsPerWorker, 1)
	switch {
	case in.Workers < in.Min:
		return Decision{in.Min, fmt.Sprintf("below numprocs_min (%d < %d)", in.Workers, in.Min)}
	case in.Workers > in.Max:
		return Decision{in.Max, fmt.Sprintf("above numprocs_max (%d > %d)", in.Workers, in.Max)}
	}
	busy := min(in.Reserved, in.Workers)
	waiting := in.Ready + in.Due
	want := busy + (waiting+perWorker-1)/perWorker
	load := fmt.Sprintf("%d ready, %d due, %d in flight, %d workers", in.Ready, in.Due, in.Reserved, in.Workers)
	if in.Draining > 0 {
		load += fmt.Sprintf(" (+%d draining)", in.Draining)
	}
	slow := in.MaxWait > 0 && waiting > 0 && in.OldestWait > in.MaxWait
	if slow {
		want = max(want, in.Workers+step)
		load += fmt.Sprintf(", oldest waited %s", in.OldestWait.Round(time.Second))
	}
	want = min(max(want, in.Min), in.Max)
	if want == in.Workers {
		return Decision{in.Workers, "steady: " + load}
	}
	if !in.LastChange.IsZero() && in.Now.Sub(in.LastChange) < in.Cooldown {
		left := in.Cooldown - in.Now.Sub(in.LastChange)
		return Decision{in.Workers, fmt.Sprintf("cooldown (%s left, want %d): %s", left.Round(time.Second), want, load)}
	}
	if want > in.Workers {
		target := min(want, in.Workers+step)
		return Decision{target, fmt.Sprintf("grow to %d (want %d): %s", target, want, load)}
	}
	target := max(want, in.Workers-step)
	return Decision{target, fmt.Sprintf("shrink to %d (want %d): %s", target, want, load)}
}
