package pool

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/drover/drover/internal/autoscale"
	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/queue"
	"github.com/drover/drover/internal/supervisor"
)

// openQueue returns the queue source of a scaling pool.
func (m *Pools) openQueue(src config.QueueSource) queue.Source {
	if m.opts.Queues != nil {
		return m.opts.Queues(src)
	}
	return queue.Open(src)
}

// runScaler samples pl's queue every scale_interval, or at once after new
// bounds, and resizes the pool toward the policy's target until the
// group is removed or the daemon stops. A configuration replaced by a
// rolling update takes effect at the next tick.
func (m *Pools) runScaler(pl *workerPool) {
	ctx := pl.act.Context()
	var sc *config.Scaling
	var src queue.Source
	var tick *time.Ticker
	defer func() {
		if src != nil {
			src.Close()
			tick.Stop()
		}
		m.releaseHeld(pl, math.MaxInt)
	}()
	for {
		g := pl.act.Group()
		if g == nil || g.Config.Scaling == nil {
			return
		}
		if g.Config.Scaling != sc {
			if src != nil {
				src.Close()
				tick.Stop()
			}
			sc = g.Config.Scaling
			src = m.openQueue(sc.Queue)
			tick = time.NewTicker(sc.Interval)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-pl.wake:
		}
		if m.s.Mood() == supervisor.MoodRunning {
			m.scaleOnce(ctx, pl, sc, src)
		}
	}
}

// scaleOnce makes one scaling decision and starts carrying it out: growth
// starts processes (not waiting for RUNNING), shrinking stops the chosen
// workers in the background and removes each once it is stopped.
func (m *Pools) scaleOnce(ctx context.Context, pl *workerPool, sc *config.Scaling, src queue.Source) {
	if !pl.roll.TryLock() {
		pl.setStatus(func(st *supervisor.WorkerPool) { st.Decision = "rolling restart in progress" })
		return
	}
	defer pl.roll.Unlock()
	now := time.Now()
	pl.mu.Lock()
	holding := pl.frozen || now.Before(pl.holdWanted)
	pl.mu.Unlock()
	if holding {
		return
	}
	sample, ok := m.sample(ctx, pl, sc, src, now)
	if !ok {
		return
	}
	g := pl.act.Group()
	if g == nil {
		return
	}
	live, held, draining, lastResize := pl.workers(g)
	if held != nil {
		reason := fmt.Sprintf("paused: %s is %s (start it to resume scaling)", held.Config().Name, held.Info().State)
		var was string
		pl.setStatus(func(st *supervisor.WorkerPool) {
			was = st.Decision
			st.Target, st.Decision, st.DecidedAt = len(live), reason, now
		})
		if !strings.HasPrefix(was, "paused:") {
			m.s.Logf(config.LevelInfo, "pool %s: %s", pl.name, reason)
		}
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
	count := func(d *supervisor.Decisions) { d.Hold++ }
	switch {
	case d.Target > len(live):
		// Draining workers keep their slots until they exit, so growth
		// may use as many slots beyond the maximum as are draining.
		var grew bool
		reason, grew = m.grow(ctx, pl, g, d, len(live), hi+draining)
		if grew {
			lastResize = now
			count = func(d *supervisor.Decisions) { d.Up++ }
		}
	case d.Target < len(live):
		m.s.Logf(config.LevelInfo, "pool %s: %s", pl.name, d.Reason)
		m.shrink(ctx, pl, live, len(live)-d.Target)
		lastResize = now
		count = func(d *supervisor.Decisions) { d.Down++ }
	}
	pl.setStatus(func(st *supervisor.WorkerPool) {
		st.Target, st.Decision, st.DecidedAt, st.LastResize = d.Target, reason, now, lastResize
		count(&st.Decisions)
	})
}

// sample reads the queue and records the sample; false when it failed
// (the pool holds its size). A change of reachability is logged.
func (m *Pools) sample(ctx context.Context, pl *workerPool, sc *config.Scaling, src queue.Source, now time.Time) (queue.Sample, bool) {
	sctx, cancel := context.WithTimeout(ctx, max(sc.Interval, 2*time.Second))
	sample, err := src.Sample(sctx, now)
	cancel()
	pl.mu.Lock()
	st := pl.report()
	wasOK, hadSample := st.QueueOK, !st.SampledAt.IsZero() || st.QueueError != ""
	st.SampledAt = now
	if err != nil {
		st.QueueOK, st.QueueError = false, err.Error()
		st.Decision, st.DecidedAt = "queue unreachable: holding the current size", now
	} else {
		st.QueueOK, st.QueueError, st.Sample = true, "", supervisor.QueueSample(sample)
	}
	pl.mu.Unlock()
	switch {
	case err != nil && (wasOK || !hadSample):
		m.s.Logf(config.LevelWarn, "pool %s: queue %s unreachable, holding its size: %v", pl.name, sc.Queue.Display, err)
	case err == nil && !wasOK && hadSample:
		m.s.Logf(config.LevelInfo, "pool %s: queue %s reachable again", pl.name, sc.Queue.Display)
	}
	return sample, err == nil
}

// workers sorts the processes of g: live ones (STARTING, RUNNING, BACKOFF)
// not being drained, and the first one in any other state, held. The
// scaler removes the workers it stops, so a process in another state was
// stopped by hand (stop, autostart=false) or gave up (FATAL, EXITED
// without autorestart): the pool pauses until every process runs again.
func (pl *workerPool) workers(g *supervisor.Group) (live []*supervisor.Process, held *supervisor.Process, draining int, lastResize time.Time) {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	for _, p := range g.Processes {
		switch {
		case pl.draining[p]:
		case p.Info().State.IsRunning():
			live = append(live, p)
		case held == nil:
			held = p
		}
	}
	return live, held, len(pl.draining), pl.statusLocked().LastResize
}

// grow starts workers toward d.Target in the free slots among the first
// limit, as many as the Limiter grants; it returns the decision's reason,
// with why it fell short, and whether it started any.
func (m *Pools) grow(ctx context.Context, pl *workerPool, g *supervisor.Group, d autoscale.Decision, live, limit int) (string, bool) {
	reason := d.Reason
	free := freeSlots(g, limit)
	n := min(d.Target-live, len(free))
	if n < d.Target-live {
		reason += " (no free slot: draining workers still hold theirs)"
	}
	if want := n; want > 0 && m.opts.Limiter != nil {
		n = min(max(m.opts.Limiter.Acquire(pl.name, want), 0), want)
		if n < want {
			reason += fmt.Sprintf(" (limiter granted %d of %d)", n, want)
		}
	}
	if n == 0 {
		return reason, false
	}
	m.s.Logf(config.LevelInfo, "pool %s: %s", pl.name, d.Reason)
	added := 0
	for _, pc := range free[:n] {
		p, err := pl.act.AddProcess(pc)
		if err != nil {
			m.s.Logf(config.LevelWarn, "pool %s: grow: %v", pl.name, err)
			break
		}
		added++
		// A failed spawn is the runner's to log and retry.
		_ = p.Autostart(ctx)
	}
	if m.opts.Limiter != nil {
		if n > added {
			m.opts.Limiter.Release(pl.name, n-added)
		}
		pl.mu.Lock()
		pl.held += added
		pl.mu.Unlock()
	}
	return reason, true
}

// shrink drains n of the live workers: idle ones first (per their job
// lines), newest first among equals (the highest process_num, the last
// one added). Each is stopped and removed in a goroutine of its own that
// the Supervisor joins.
func (m *Pools) shrink(ctx context.Context, pl *workerPool, live []*supervisor.Process, n int) {
	slices.SortFunc(live, func(a, b *supervisor.Process) int {
		if ab, bb := m.jobs.busy(a), m.jobs.busy(b); ab != bb {
			return boolInt(ab) - boolInt(bb)
		}
		return b.Config().ProcessNum - a.Config().ProcessNum
	})
	drain := live[:n]
	pl.mu.Lock()
	for _, p := range drain {
		pl.markDraining(p)
	}
	pl.mu.Unlock()
	for _, p := range drain {
		pl.act.Go("pool "+pl.name+": shrink", func() { m.drain(ctx, pl, p) })
	}
}

// drain stops p, which pl drains, removes it and gives back a worker
// acquired from the Limiter.
func (m *Pools) drain(ctx context.Context, pl *workerPool, p *supervisor.Process) {
	if err := pl.stopAndRemove(ctx, p); err != nil {
		m.s.Logf(config.LevelWarn, "pool %s: shrink: %v", pl.name, err)
		pl.mu.Lock()
		delete(pl.draining, p)
		pl.mu.Unlock()
		return
	}
	m.releaseHeld(pl, 1)
}

// releaseHeld gives back to the Limiter up to n of the workers pl holds.
func (m *Pools) releaseHeld(pl *workerPool, n int) {
	if m.opts.Limiter == nil {
		return
	}
	pl.mu.Lock()
	n = min(n, pl.held)
	pl.held -= n
	pl.mu.Unlock()
	if n > 0 {
		m.opts.Limiter.Release(pl.name, n)
	}
}
