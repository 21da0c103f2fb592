package supervisor

import (
	"strings"
	"time"
)

// WorkerPool is what Snapshot reports of one program group's worker pool
// (internal/pool keeps it; Hooks.Pool hands it over): plain values.
type WorkerPool struct {
	Group      string
	Scaling    bool // numprocs_max is set
	Min, Max   int  // the bounds the scaler keeps to: numprocs_min, numprocs_max or run-time ones (both numprocs when not scaling)
	Workers    int  // live processes (STARTING, RUNNING, BACKOFF) not being drained
	Busy       int  // live workers whose output says they run a job (Laravel's job lines)
	Draining   int  // processes being stopped by the scaler
	Processes  int  // processes in the group, any state
	Target     int  // size the last decision asked for
	Queue      string
	QueueOK    bool   // the last sample succeeded
	QueueError string // why the last sample failed
	Sample     QueueSample
	SampledAt  time.Time
	Decision   string // reason of the last decision, or why none was made
	DecidedAt  time.Time
	LastResize time.Time
	Rolling    string    // progress of a rolling restart, "" when none runs
	QueueNames []string  // the Laravel queues or list keys sampled
	Decisions  Decisions // scaling decisions made since the group started
	Jobs       JobCounts // jobs finished per the job lines (scaling pools only)
}

// QueueSample is what a pool's last queue sample read (queue.Sample's
// figures, which the core carries without knowing queues).
type QueueSample struct {
	Ready, Due, Delayed, Reserved, Expired int
	// OldestWait is how long the oldest waiting job has waited, as far as
	// the sampler can tell; 0 when none waits.
	OldestWait time.Duration
}

// Decisions counts a scaler's decisions by what they did to the pool.
type Decisions struct {
	Up, Down, Hold uint64
}

// JobCounts are the jobs a group's workers finished, by outcome, per
// their job lines, and the time they took together (the jobs whose start
// was seen).
type JobCounts struct {
	Done, Failed uint64
	Time         time.Duration
}

// Desired is the size the pool aims at: its last scaling decision's target,
// or numprocs (numprocs_min) before the first decision and for a pool that
// does not scale.
func (p *WorkerPool) Desired() int {
	if p.Scaling && !p.DecidedAt.IsZero() {
		return p.Target
	}
	return p.Min
}

// QueueName names the pool's queue: its Laravel queues or list keys,
// comma-separated.
func (p *WorkerPool) QueueName() string { return strings.Join(p.QueueNames, ",") }
