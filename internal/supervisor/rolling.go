package supervisor

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/guard"
	"github.com/drover/drover/internal/process"
	"github.com/drover/drover/internal/queue"
)

// RollingRestart restarts every process of the program group name, batch
// at a time, without dropping capacity: it first starts batch surge
// workers (spare process numbers) and waits until they are RUNNING; then,
// for each batch of the group's processes, it stops them gracefully and
// starts them again, waiting for RUNNING before the next batch; finally it
// stops the surge workers. Processes being drained by the scaler are left
// to finish. A failure stops the roll (and its surge workers) and is returned.
func (s *Supervisor) RollingRestart(ctx context.Context, name string, batch int) error {
	pl, g, err := s.poolOf(name)
	if err != nil {
		return err
	}
	return s.roll(ctx, pl, g.Config, batch, func(*Process) (*config.Process, bool) { return nil, true })
}

// RollingUpdate replaces the active program group name by its pending
// (reread) configuration the same way: each process whose config changed
// is stopped and replaced by a new one from the pending config; processes
// the pending config adds are started, those it drops are stopped and
// removed once the others are up. The group then has the pending config.
func (s *Supervisor) RollingUpdate(ctx context.Context, name string, batch int) error {
	pl, g, err := s.poolOf(name)
	if err != nil {
		return err
	}
	var next *config.Group
	for _, gc := range s.PendingConfig().Groups {
		if gc.Name == name {
			next = gc
		}
	}
	switch {
	case next == nil:
		return fmt.Errorf("%w: group %s is not in the pending config", ErrBadName, name)
	case next.Kind != config.KindProgram || g.Config.Kind != config.KindProgram:
		return fmt.Errorf("%w: %s is not a program group", ErrNotRollable, name)
	}
	byName := map[string]*config.Process{}
	for _, pc := range append(slices.Clone(next.Processes), next.Spares...) {
		byName[pc.Name] = pc
	}
	replace := func(p *Process) (*config.Process, bool) {
		pc := byName[p.Config().Name]
		if pc == nil || config.SameProcess(pc, p.Config()) {
			return nil, false
		}
		return pc, true
	}
	return s.roll(ctx, pl, next, batch, replace)
}

// roll replaces the processes of pl's group batch at a time (see
// RollingRestart). For each process, replace says whether to act on it
// and with which config: a new one for a replacement, nil to restart the
// same process. next is the group config the group ends with; processes it
// does not name are stopped and removed at the end.
func (s *Supervisor) roll(ctx context.Context, pl *workerPool, next *config.Group, batch int,
	replace func(*Process) (*config.Process, bool)) error {
	batch = max(batch, 1)
	pl.roll.Lock()
	defer pl.roll.Unlock()
	defer pl.setStatus(func(st *WorkerPool) { st.Rolling = "" })
	g := s.current(pl)
	if g == nil {
		return errPoolGone
	}
	keep, known := map[string]bool{}, map[string]bool{}
	for _, pc := range next.Processes {
		keep[pc.Name], known[pc.Name] = true, true
	}
	for _, pc := range next.Spares {
		known[pc.Name] = true
	}
	var todo, dropped []*Process
	pl.mu.Lock()
	for _, p := range g.Processes {
		switch _, act := replace(p); {
		case pl.draining[p]:
		case !known[p.Config().Name]:
			dropped = append(dropped, p)
		case act:
			todo = append(todo, p)
		}
	}
	pl.mu.Unlock()
	if len(todo) == 0 {
		return s.finishUpdate(ctx, pl, next, dropped)
	}
	used := map[string]bool{}
	for _, p := range g.Processes {
		used[p.Config().Name] = true
	}
	// Surge workers come from the end of the spare range, away from the
	// slots the scaler grows into.
	var surgeCfg []*config.Process
	for i := len(next.Spares) - 1; i >= 0 && len(surgeCfg) < batch; i-- {
		if pc := next.Spares[i]; !used[pc.Name] && !keep[pc.Name] {
			surgeCfg = append(surgeCfg, pc)
		}
	}
	switch {
	case len(next.Spares) == 0:
		return fmt.Errorf("%w: process_name of %s has no %%(process_num), so no surge worker can start beside it",
			ErrNotRollable, pl.name)
	case len(surgeCfg) < batch:
		return fmt.Errorf("%w: group %s has %d free spare process numbers, fewer than a batch of %d",
			ErrNotRollable, pl.name, len(surgeCfg), batch)
	}
	progress := func(format string, a ...any) {
		msg := fmt.Sprintf(format, a...)
		pl.setStatus(func(st *WorkerPool) { st.Rolling = msg })
		s.logf(config.LevelInfo, "rolling restart of %s: %s", pl.name, msg)
	}
	progress("starting %d surge worker(s)", batch)
	var surge []*Process
	defer func() {
		for _, p := range surge {
			if err := s.stopAndRemove(context.WithoutCancel(ctx), pl, p); err != nil {
				s.logf(config.LevelWarn, "rolling restart of %s: %v", pl.name, err)
			}
		}
	}()
	for _, pc := range surgeCfg {
		p, err := s.addProcess(pl, pc)
		if err != nil {
			return err
		}
		surge = append(surge, p)
	}
	if err := startAll(ctx, surge); err != nil {
		return err
	}
	for i := 0; i < len(todo); i += batch {
		restart := todo[i:min(i+batch, len(todo))]
		progress("replacing %s (%d of %d)", namesOf(restart), min(i+batch, len(todo)), len(todo))
		wasLive := map[*Process]bool{}
		for _, p := range restart {
			wasLive[p] = p.Info().State.IsRunning()
		}
		if err := stopAll(ctx, restart); err != nil {
			return err
		}
		var start []*Process
		for _, p := range restart {
			pc, _ := replace(p)
			if pc == nil {
				start = append(start, p)
				continue
			}
			s.removeProcess(pl, p)
			np, err := s.addProcess(pl, pc)
			if err != nil {
				return err
			}
			if wasLive[p] || pc.Autostart {
				start = append(start, np)
			}
		}
		for _, p := range start {
			p.restarts.expect(RestartRolling)
		}
		if err := startAll(ctx, start); err != nil {
			return err
		}
	}
	if err := s.finishUpdate(ctx, pl, next, dropped); err != nil {
		return err
	}
	progress("stopping the surge worker(s)")
	return nil
}

// finishUpdate starts the processes next adds, stops and removes those it
// dropped, and makes next the group's config.
func (s *Supervisor) finishUpdate(ctx context.Context, pl *workerPool, next *config.Group, dropped []*Process) error {
	g := s.current(pl)
	if g == nil {
		return errPoolGone
	}
	present := map[string]bool{}
	for _, p := range g.Processes {
		present[p.Config().Name] = true
	}
	var start []*Process
	for _, pc := range next.Processes {
		if present[pc.Name] {
			continue
		}
		p, err := s.addProcess(pl, pc)
		if err != nil {
			return err
		}
		if pc.Autostart {
			start = append(start, p)
		}
	}
	if err := startAll(ctx, start); err != nil {
		return err
	}
	for _, p := range dropped {
		if err := s.stopAndRemove(ctx, pl, p); err != nil {
			return err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur := s.groups[pl.name]; cur != nil && cur.done == pl.done && cur.Config != next {
		ng := *cur
		ng.Config = next
		s.groups[pl.name] = &ng
	}
	return nil
}

// startAll starts ps together and waits until each is RUNNING.
func startAll(ctx context.Context, ps []*Process) error {
	return eachConcurrently(ps, func(p *Process) error {
		err := p.Start(ctx, true)
		if err != nil && !errors.Is(err, process.ErrAlreadyStarted) {
			return fmt.Errorf("start %s: %w", p.Namespec, err)
		}
		return nil
	})
}

// stopAll stops ps together (gracefully) and waits until each is stopped.
func stopAll(ctx context.Context, ps []*Process) error {
	return eachConcurrently(ps, func(p *Process) error {
		err := p.Stop(ctx, true)
		if err != nil && !errors.Is(err, process.ErrNotRunning) {
			return fmt.Errorf("stop %s: %w", p.Namespec, err)
		}
		return nil
	})
}

func eachConcurrently(ps []*Process, f func(*Process) error) error {
	errs := make([]error, len(ps))
	done := make(chan struct{})
	for i, p := range ps {
		guard.Go("rolling step of "+p.Namespec, func() {
			defer func() { done <- struct{}{} }()
			errs[i] = f(p)
		})
	}
	for range ps {
		<-done
	}
	return errors.Join(errs...)
}

func namesOf(ps []*Process) string {
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = p.Config().Name
	}
	return strings.Join(names, ", ")
}

// restartWatchEvery is how often a rolling_restart_watch key is read.
const restartWatchEvery = 2 * time.Second

// watchRestartKey rolls the group whenever the watched key (Laravel's
// illuminate:queue:restart timestamp) changes from the value it had when
// the group started. Unreachable Redis is logged once per state change.
func (s *Supervisor) watchRestartKey(ctx context.Context, pl *workerPool, src config.QueueSource) {
	key := queue.OpenKey(src)
	defer key.Close()
	tick := time.NewTicker(restartWatchEvery)
	defer tick.Stop()
	var last string
	known, healthy := false, true
	for {
		rctx, cancel := context.WithTimeout(ctx, restartWatchEvery)
		v, err := key.Get(rctx)
		cancel()
		switch {
		case err != nil:
			if healthy {
				s.logf(config.LevelWarn, "pool %s: rolling_restart_watch %s unreachable: %v", pl.name, src.Display, err)
			}
			healthy = false
		case !known:
			last, known, healthy = v, true, true
		default:
			if !healthy {
				s.logf(config.LevelInfo, "pool %s: rolling_restart_watch %s reachable again", pl.name, src.Display)
			}
			healthy = true
			if v != last && s.Mood() == MoodRunning {
				last = v
				s.logf(config.LevelInfo, "pool %s: %s changed to %q: rolling restart", pl.name, src.Keys[0], v)
				if err := s.RollingRestart(ctx, pl.name, 1); err != nil {
					s.logf(config.LevelWarn, "pool %s: rolling restart: %v", pl.name, err)
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
