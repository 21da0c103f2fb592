package pool

import (
	"bytes"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/process"
	"github.com/drover/drover/internal/queue"
	"github.com/drover/drover/internal/supervisor"
)

// jobTracker follows a scaling worker's output for the lines Laravel's
// queue:work prints around each job (queue.ParseJobLine), so the scaler
// can stop an idle worker rather than a busy one. Output passes through
// unchanged.
type jobTracker struct {
	inner   io.Writer // the log, possibly a SpawnWriter (capture mode, events)
	busy    atomic.Bool
	started atomic.Int64 // unix nanoseconds of the running job's Processing line, 0 for none
	counts  *jobCounters // the group's, kept while the daemon runs
}

// jobCounters count the jobs a worker finished, by outcome, and the time
// from their Processing lines to their outcomes.
type jobCounters struct {
	done, failed atomic.Uint64
	nanos        atomic.Int64
}

// jobBook holds the job trackers of the scaling programs' processes by
// namespec, and their counters by group name.
type jobBook struct {
	mu       sync.Mutex
	trackers map[string]*jobTracker
	counts   map[string]*jobCounters
}

// track wraps the stdout writer of a scaling program's process and
// registers its tracker by namespec; other processes keep w
// (supervisor.Hooks.Output). Scaling is a group's setting; a process
// knows it from its numprocs_max key.
func (b *jobBook) track(pc *config.Process, w io.Writer) io.Writer {
	if _, scaling := pc.Extra["numprocs_max"]; !scaling {
		return w
	}
	t := &jobTracker{inner: w}
	b.mu.Lock()
	if b.trackers == nil {
		b.trackers = map[string]*jobTracker{}
		b.counts = map[string]*jobCounters{}
	}
	if t.counts = b.counts[pc.Group]; t.counts == nil {
		t.counts = new(jobCounters)
		b.counts[pc.Group] = t.counts
	}
	b.trackers[supervisor.Namespec(pc.Group, pc.Name)] = t
	b.mu.Unlock()
	return t
}

// busy reports whether p's last job line says it is running a job.
func (b *jobBook) busy(p *supervisor.Process) bool {
	b.mu.Lock()
	t := b.trackers[p.Namespec]
	b.mu.Unlock()
	return t != nil && t.busy.Load()
}

// finished returns the jobs the workers of group finished.
func (b *jobBook) finished(group string) supervisor.JobCounts {
	b.mu.Lock()
	c := b.counts[group]
	b.mu.Unlock()
	if c == nil {
		return supervisor.JobCounts{}
	}
	return supervisor.JobCounts{Done: c.done.Load(), Failed: c.failed.Load(), Time: time.Duration(c.nanos.Load())}
}

// Write passes output not tied to a child to the log.
func (t *jobTracker) Write(p []byte) (int, error) {
	if t.inner == nil {
		return len(p), nil
	}
	return t.inner.Write(p)
}

// ForSpawn starts following a new child: it is idle until it says otherwise.
func (t *jobTracker) ForSpawn() process.ChildWriter {
	t.busy.Store(false)
	c := &jobLines{t: t, out: t.inner}
	if sw, ok := t.inner.(process.SpawnWriter); ok {
		cw := sw.ForSpawn()
		c.out, c.spawned = cw, cw.Spawned
	}
	return c
}

// jobLines is the output of one child.
type jobLines struct {
	t       *jobTracker
	out     io.Writer
	spawned func(pid int)
	mu      sync.Mutex
	line    []byte // start of the current line, at most queue.JobLineHead bytes
}

func (c *jobLines) Write(p []byte) (int, error) {
	c.mu.Lock()
	for rest := p; len(rest) > 0; {
		i := bytes.IndexByte(rest, '\n')
		chunk := rest
		if i >= 0 {
			chunk = rest[:i]
		}
		if room := queue.JobLineHead - len(c.line); room > 0 {
			c.line = append(c.line, chunk[:min(room, len(chunk))]...)
		}
		if i < 0 {
			break
		}
		c.endLine()
		rest = rest[i+1:]
	}
	c.mu.Unlock()
	if c.out == nil {
		return len(p), nil
	}
	return c.out.Write(p)
}

func (c *jobLines) endLine() {
	switch queue.ParseJobLine(c.line) {
	case queue.JobStarted:
		c.t.busy.Store(true)
		c.t.started.Store(time.Now().UnixNano())
	case queue.JobDone:
		c.t.finished(&c.t.counts.done)
	case queue.JobFailed:
		c.t.finished(&c.t.counts.failed)
	}
	c.line = c.line[:0]
}

func (c *jobLines) Spawned(pid int) {
	if c.spawned != nil {
		c.spawned(pid)
	}
}

// finished counts a job's outcome and, if its start was seen, its time.
func (t *jobTracker) finished(outcome *atomic.Uint64) {
	t.busy.Store(false)
	outcome.Add(1)
	if start := t.started.Swap(0); start != 0 {
		t.counts.nanos.Add(max(time.Now().UnixNano()-start, 0))
	}
}
