package supervisor

import (
	"bytes"
	"io"
	"sync"
	"sync/atomic"

	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/process"
)

// jobTracker follows a scaling worker's output for the lines Laravel's
// queue:work prints around each job ("[time][id] Processing: Class", then
// "Processed:" or "Failed:"), so the scaler can stop an idle worker rather
// than a busy one. Output passes through unchanged.
type jobTracker struct {
	inner  io.Writer // the log, possibly a SpawnWriter (capture mode, events)
	busy   atomic.Bool
	counts *jobCounters // kept across the trackers of one namespec
}

// jobCounters count the jobs a worker finished, by outcome.
type jobCounters struct {
	done, failed atomic.Uint64
}

// JobCounts are the jobs a worker finished, by outcome, per its job lines.
type JobCounts struct {
	Done, Failed uint64
}

// trackJobs wraps the stdout writer of a scaling program's process and
// registers its tracker by namespec; other processes keep w.
func (s *Supervisor) trackJobs(pc *config.Process, w io.Writer) io.Writer {
	if _, scaling := pc.Extra["numprocs_max"]; !scaling {
		return w
	}
	t := &jobTracker{inner: w, counts: new(jobCounters)}
	namespec := Namespec(pc.Group, pc.Name)
	s.pools.mu.Lock()
	if s.pools.jobs == nil {
		s.pools.jobs = map[string]*jobTracker{}
	}
	if old := s.pools.jobs[namespec]; old != nil {
		t.counts = old.counts
	}
	s.pools.jobs[namespec] = t
	s.pools.mu.Unlock()
	return t
}

// busy reports whether p's last job line says it is running a job.
func (s *Supervisor) busy(p *Process) bool {
	t := s.jobTracker(p)
	return t != nil && t.busy.Load()
}

// jobs returns whether p runs a job and the jobs it finished, per its job
// lines; zero for a process whose output is not followed.
func (s *Supervisor) jobs(p *Process) (busy bool, finished JobCounts) {
	t := s.jobTracker(p)
	if t == nil {
		return false, JobCounts{}
	}
	return t.busy.Load(), JobCounts{Done: t.counts.done.Load(), Failed: t.counts.failed.Load()}
}

func (s *Supervisor) jobTracker(p *Process) *jobTracker {
	s.pools.mu.Lock()
	defer s.pools.mu.Unlock()
	return s.pools.jobs[p.Namespec]
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
	line    []byte // start of the current line, at most lineHead bytes
}

// lineHead bounds what is kept of a line: the markers come right after
// the timestamp and job id.
const lineHead = 256

var (
	markStart  = []byte("] Processing: ")
	markDone   = []byte("] Processed: ")
	markFailed = []byte("] Failed: ")
)

func (c *jobLines) Write(p []byte) (int, error) {
	c.mu.Lock()
	for rest := p; len(rest) > 0; {
		i := bytes.IndexByte(rest, '\n')
		chunk := rest
		if i >= 0 {
			chunk = rest[:i]
		}
		if room := lineHead - len(c.line); room > 0 {
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
	switch {
	case bytes.Contains(c.line, markStart):
		c.t.busy.Store(true)
	case bytes.Contains(c.line, markDone):
		c.t.busy.Store(false)
		c.t.counts.done.Add(1)
	case bytes.Contains(c.line, markFailed):
		c.t.busy.Store(false)
		c.t.counts.failed.Add(1)
	}
	c.line = c.line[:0]
}

func (c *jobLines) Spawned(pid int) {
	if c.spawned != nil {
		c.spawned(pid)
	}
}
