package supervisor

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/drover/drover/internal/autoscale"
	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/guard"
	"github.com/drover/drover/internal/queue"
)

// openQueue returns the queue source of a scaling pool.
func (s *Supervisor) openQueue(src config.QueueSource) queue.Source {
	if s.opts.Queues != nil {
		return s.opts.Queues(src)
	}
	return queue.Open(src)
}

// runScaler samples pl's queue every scale_interval and resizes the pool
// toward the policy's target until ctx ends (the group is removed or the
// daemon stops). A configuration replaced by a rolling update takes effect
// at the next tick.
func (s *Supervisor) runScaler(ctx context.Context, pl *workerPool) {
	var sc *config.Scaling
	var src queue.Source
	var tick *time.Ticker
	defer func() {
		if src != nil {
			src.Close()
			tick.Stop()
		}
		s.releaseHeld(pl, math.MaxInt)
	}()
	for {
		g := s.current(pl)
		if g == nil || g.Config.Scaling == nil {
			return
		}
		if g.Config.Scaling != sc {
			if src != nil {
				src.Close()
				tick.Stop()
			}
			sc = g.Config.Scaling
			src = s.openQueue(sc.Queue)
			tick = time.NewTicker(sc.Interval)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-pl.wake:
		}
		if s.Mood() == MoodRunning {
			s.scaleOnce(ctx, pl, sc, src)
		}
	}
}

// scaleOnce makes one scaling decision and starts carrying it out: growth
// starts processes (not waiting for RUNNING), shrinking stops the newest
// workers in the background and removes each once it is stopped.
func (s *Supervisor) scaleOnce(ctx context.Context, pl *workerPool, sc *config.Scaling, src queue.Source) {
	if !pl.roll.TryLock() {
		pl.setStatus(func(st *WorkerPool) { st.Decision = "rolling restart in progress" })
		return
	}
	defer pl.roll.Unlock()
	now := time.Now()
	sctx, cancel := context.WithTimeout(ctx, max(sc.Interval, 2*time.Second))
	sample, err := src.Sample(sctx, now)
	cancel()
	pl.mu.Lock()
	wasOK, hadSample := pl.status.QueueOK, !pl.status.SampledAt.IsZero() || pl.status.QueueError != ""
	pl.status.SampledAt = now
	if err != nil {
		pl.status.QueueOK, pl.status.QueueError = false, err.Error()
		pl.status.Decision, pl.status.DecidedAt = "queue unreachable: holding the current size", now
	} else {
		pl.status.QueueOK, pl.status.QueueError, pl.status.Sample = true, "", sample
	}
	pl.mu.Unlock()
	switch {
	case err != nil && (wasOK || !hadSample):
		s.logf(config.LevelWarn, "pool %s: queue %s unreachable, holding its size: %v", pl.name, sc.Queue.Display, err)
	case err == nil && !wasOK && hadSample:
		s.logf(config.LevelInfo, "pool %s: queue %s reachable again", pl.name, sc.Queue.Display)
	}
	if err != nil {
		return
	}
	g := s.current(pl)
	if g == nil {
		return
	}
	// The scaler removes the workers it stops, so a process of the group
	// in any other state than STARTING, RUNNING or BACKOFF was stopped by
	// hand (stop, autostart=false) or gave up (FATAL, EXITED without
	// autorestart): the pool pauses until every process runs again.
	var live []*Process
	var held *Process
	pl.mu.Lock()
	for _, p := range g.Processes {
		switch {
		case pl.draining[p]:
		case p.Info().State.IsRunning():
			live = append(live, p)
		case held == nil:
			held = p
		}
	}
	draining, lastResize := len(pl.draining), pl.status.LastResize
	pl.mu.Unlock()
	if held != nil {
		reason := fmt.Sprintf("paused: %s is %s (start it to resume scaling)", held.Config().Name, held.Info().State)
		pl.setStatus(func(st *WorkerPool) {
			if !strings.HasPrefix(st.Decision, "paused:") {
				s.logf(config.LevelInfo, "pool %s: %s", pl.name, reason)
			}
			st.Target, st.Decision, st.DecidedAt = len(live), reason, now
		})
		return
	}
	lo, hi := pl.limits(sc)
	d := autoscale.Decide(autoscale.Inputs{
		Workers: len(live), Draining: draining,
		Ready: sample.Ready, Due: sample.Due, Reserved: sample.Reserved, OldestWait: sample.OldestWait,
		Min: lo, Max: hi, Step: sc.Step, JobsPerWorker: sc.JobsPerWorker, MaxWait: sc.MaxWait,
		Cooldown: sc.Cooldown, LastChange: lastResize, Now: now,
	})
	reason := d.Reason
	count := func(d *Decisions) { d.Hold++ }
	switch {
	case d.Target > len(live):
		// Draining workers keep their slots until they exit, so growth
		// may use as many slots beyond numprocs_max as are draining.
		free := freeSlots(g, hi+draining)
		n := min(d.Target-len(live), len(free))
		if n < d.Target-len(live) {
			reason += " (no free slot: draining workers still hold theirs)"
		}
		if want := n; want > 0 && s.opts.Limiter != nil {
			n = min(max(s.opts.Limiter.Acquire(pl.name, want), 0), want)
			if n < want {
				reason += fmt.Sprintf(" (limiter granted %d of %d)", n, want)
			}
		}
		if n > 0 {
			s.logf(config.LevelInfo, "pool %s: %s", pl.name, d.Reason)
			lastResize = now
			count = func(d *Decisions) { d.Up++ }
		}
		added := 0
		for _, pc := range free[:n] {
			p, err := s.addProcess(pl, pc)
			if err != nil {
				s.logf(config.LevelWarn, "pool %s: grow: %v", pl.name, err)
				break
			}
			added++
			// A failed spawn is the runner's to log and retry.
			_ = p.Autostart(ctx)
		}
		if s.opts.Limiter != nil {
			s.opts.Limiter.Release(pl.name, n-added)
			pl.mu.Lock()
			pl.held += added
			pl.mu.Unlock()
		}
	case d.Target < len(live):
		// Idle workers first (per their job lines), newest first among
		// equals: the highest process_num, the last one added.
		slices.SortFunc(live, func(a, b *Process) int {
			if ab, bb := s.busy(a), s.busy(b); ab != bb {
				return boolInt(ab) - boolInt(bb)
			}
			return b.Config().ProcessNum - a.Config().ProcessNum
		})
		s.logf(config.LevelInfo, "pool %s: %s", pl.name, d.Reason)
		pl.mu.Lock()
		for _, p := range live[:len(live)-d.Target] {
			pl.draining[p] = true
			guard.Go("pool "+pl.name+": shrink", func() {
				if err := s.stopAndRemove(ctx, pl, p); err != nil {
					s.logf(config.LevelWarn, "pool %s: shrink: %v", pl.name, err)
					pl.mu.Lock()
					delete(pl.draining, p)
					pl.mu.Unlock()
					return
				}
				s.releaseHeld(pl, 1)
			})
		}
		pl.mu.Unlock()
		lastResize = now
		count = func(d *Decisions) { d.Down++ }
	}
	pl.setStatus(func(st *WorkerPool) {
		st.Target, st.Decision, st.DecidedAt, st.LastResize = d.Target, reason, now, lastResize
		count(&st.Decisions)
	})
}

// releaseHeld gives back to the limiter up to n of the workers pl holds.
func (s *Supervisor) releaseHeld(pl *workerPool, n int) {
	if s.opts.Limiter == nil {
		return
	}
	pl.mu.Lock()
	n = min(n, pl.held)
	pl.held -= n
	pl.mu.Unlock()
	if n > 0 {
		s.opts.Limiter.Release(pl.name, n)
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
