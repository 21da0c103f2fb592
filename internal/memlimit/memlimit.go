// Package memlimit restarts processes over their memory_limit: one loop
// for the whole supervisor reads the daemon's process tree every
// memory_check_interval (the shortest any process sets), through the
// proctree.Sampler the metrics and the dashboard share, and restarts
// gracefully each RUNNING process whose tree (the process and all its
// descendants) holds more resident memory than its limit. RSS has no
// change notification, so this is the one place Drover polls. A round with
// no limited process running reads nothing. Watch runs as one of the
// core's loops (supervisor.Hooks.Loops).
package memlimit

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/process"
	"github.com/drover/drover/internal/proctree"
	"github.com/drover/drover/internal/supervisor"
)

// memoryWatch is the sampler's state.
type memoryWatch struct {
	s     *supervisor.Supervisor
	procs *proctree.Sampler

	mu         sync.Mutex
	restarting map[*supervisor.Process]bool // guarded by mu
}

// Watch returns the sampling loop, which reads the process trees from procs
// until ctx ends and waits for the restarts it began.
func Watch(procs *proctree.Sampler) func(context.Context, *supervisor.Supervisor) {
	return func(ctx context.Context, s *supervisor.Supervisor) {
		m := &memoryWatch{s: s, procs: procs, restarting: map[*supervisor.Process]bool{}}
		var restarts sync.WaitGroup
		defer restarts.Wait()
		_, every := limits(s)
		timer := time.NewTimer(every)
		defer timer.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-timer.C:
			}
			running, every := limits(s)
			m.sample(ctx, running, &restarts)
			timer.Reset(every)
		}
	}
}

// limits returns, in one pass over the processes (most have no limit: no
// sorting, no allocation for them), the RUNNING ones with a memory limit,
// and the shortest memory_check_interval of all those with one (the
// default when there are none, so that a limit added by update is seen
// within that time).
func limits(s *supervisor.Supervisor) (running []*supervisor.Process, every time.Duration) {
	every = config.DefaultMemoryCheckInterval
	for _, g := range s.Groups() {
		for _, p := range g.Processes {
			if w := p.Config().Worker; w != nil && w.MemoryLimit > 0 {
				every = min(every, w.MemoryCheckInterval)
				if p.Info().State == process.Running {
					running = append(running, p)
				}
			}
		}
	}
	return running, every
}

// sample runs one round on the limited RUNNING processes: it reads the
// process table only if there are any, and starts a restart for each one
// over its limit.
func (m *memoryWatch) sample(ctx context.Context, limited []*supervisor.Process, restarts *sync.WaitGroup) {
	if len(limited) == 0 || m.s.Mood() != supervisor.MoodRunning {
		return
	}
	trees, _, err := m.procs.Trees()
	if err != nil {
		m.s.Logf(config.LevelWarn, "memory limit: %v", err)
		return
	}
	for _, p := range limited {
		info := p.Info()
		limit := p.Config().Worker.MemoryLimit
		rss := trees.Usage(info.PID).RSS
		m.mu.Lock()
		over := overLimit(info.State, rss, limit, m.restarting[p])
		if over {
			m.restarting[p] = true
		}
		m.mu.Unlock()
		if !over {
			continue
		}
		m.s.Logf(config.LevelWarn, "memory limit: %s (pid %d) uses %s > %s, restarting",
			p.Config().Name, info.PID, formatMB(rss, false), formatMB(limit, true))
		restarts.Go(func() {
			defer func() {
				m.mu.Lock()
				delete(m.restarting, p)
				m.mu.Unlock()
			}()
			m.restart(ctx, p)
		})
	}
}

// overLimit is the decision: a RUNNING process whose tree uses more than
// its limit is restarted, unless a restart of it is already under way.
func overLimit(state process.State, rss, limit int64, restarting bool) bool {
	return state == process.Running && !restarting && limit > 0 && rss > limit
}

// restart stops p as `stop` does (stopsignal, SIGKILL after stopwaitsecs)
// and starts it again, unless a shutdown began meanwhile.
func (m *memoryWatch) restart(ctx context.Context, p *supervisor.Process) {
	if err := p.Runner.Stop(ctx, true); err != nil && !errors.Is(err, process.ErrNotRunning) {
		m.s.Logf(config.LevelWarn, "memory limit: stop %s: %v", p.Config().Name, err)
		return
	}
	m.s.IfRunning(func() {
		if ctx.Err() == nil {
			// A failed spawn is the runner's to log and retry.
			_ = p.AutostartFor(ctx, supervisor.RestartMemoryLimit)
		}
	})
}

// formatMB writes bytes in MiB ("MB" as memory_limit spells it): one
// decimal, or none for a whole limit.
func formatMB(n int64, whole bool) string {
	mb := float64(n) / (1 << 20)
	if whole && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MB", n>>20)
	}
	return fmt.Sprintf("%.1f MB", mb)
}
