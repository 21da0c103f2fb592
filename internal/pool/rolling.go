package pool

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/queue"
	"github.com/drover/drover/internal/supervisor"
)

// RollingRestart restarts every process of the program group name, batch
// at a time, without dropping capacity: it first starts batch surge
// workers (spare process numbers) and waits until they are RUNNING; then,
// for each batch of the group's processes, it stops them gracefully and
// starts them again, waiting for RUNNING before the next batch; finally it
// stops the surge workers. Processes being drained by the scaler are left
// to finish. A failure stops the roll (and its surge workers) and is returned.
func (m *Pools) RollingRestart(ctx context.Context, name string, batch int) error {
	pl, g, err := m.poolOf(name)
	if err != nil {
		return err
	}
	return m.roll(ctx, pl, g.Config, batch, func(*supervisor.Process) (*config.Process, bool) { return nil, true })
}

// RollingUpdate replaces the active program group name by its pending
// (reread) configuration the same way: each process whose config changed
// is stopped and replaced by a new one from the pending config; processes
// the pending config adds are started, those it drops are stopped and
// removed once the others are up. The group then has the pending config.
func (m *Pools) RollingUpdate(ctx context.Context, name string, batch int) error {
	pl, g, err := m.poolOf(name)
	if err != nil {
		return err
	}
	var next *config.Group
	for _, gc := range m.s.PendingConfig().Groups {
		if gc.Name == name {
			next = gc
		}
	}
	switch {
	case next == nil:
		return fmt.Errorf("%w: group %s is not in the pending config", supervisor.ErrBadName, name)
	case next.Kind != config.KindProgram || g.Config.Kind != config.KindProgram:
		return fmt.Errorf("%w: %s is not a program group", ErrNotRollable, name)
	}
	byName := map[string]*config.Process{}
	for _, pc := range append(slices.Clone(next.Processes), next.Spares...) {
		byName[pc.Name] = pc
	}
	// Compared with the config as read, as the pending one is: the
	// runner's copy has its AUTO log paths filled in.
	replace := func(p *supervisor.Process) (*config.Process, bool) {
		pc := byName[p.Config().Name]
		if pc == nil || config.SameProcess(pc, p.ConfigAsRead()) {
			return nil, false
		}
		return pc, true
	}
	return m.roll(ctx, pl, next, batch, replace)
}

// replace is supervisor.Hooks.Replace: a rolling update, one at a time,
// of a group that can roll.
func (m *Pools) replace(ctx context.Context, name string) (bool, error) {
	err := m.RollingUpdate(ctx, name, 1)
	if errors.Is(err, ErrNotRollable) {
		return false, nil
	}
	return err == nil, err
}

// roll replaces the processes of pl's group batch at a time (see
// RollingRestart). For each process, replace says whether to act on it
// and with which config: a new one for a replacement, nil to restart the
// same process. next is the group config the group ends with; processes it
// does not name are stopped and removed at the end.
func (m *Pools) roll(ctx context.Context, pl *workerPool, next *config.Group, batch int,
	replace func(*supervisor.Process) (*config.Process, bool)) error {
	batch = max(batch, 1)
	pl.roll.Lock()
	defer pl.roll.Unlock()
	defer pl.setStatus(func(st *supervisor.WorkerPool) { st.Rolling = "" })
	g := pl.act.Group()
	if g == nil {
		return supervisor.ErrNotActive
	}
	keep, known := map[string]bool{}, map[string]bool{}
	for _, pc := range next.Processes {
		keep[pc.Name], known[pc.Name] = true, true
	}
	for _, pc := range next.Spares {
		known[pc.Name] = true
	}
	var todo, dropped []*supervisor.Process
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
		return pl.finishUpdate(ctx, next, dropped)
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
		pl.setStatus(func(st *supervisor.WorkerPool) { st.Rolling = msg })
		m.s.Logf(config.LevelInfo, "rolling restart of %s: %s", pl.name, msg)
	}
	progress("starting %d surge worker(s)", batch)
	var surge []*supervisor.Process
	defer func() {
		for _, p := range surge {
			if err := pl.stopAndRemove(context.WithoutCancel(ctx), p); err != nil {
				m.s.Logf(config.LevelWarn, "rolling restart of %s: %v", pl.name, err)
			}
		}
	}()
	for _, pc := range surgeCfg {
		p, err := pl.act.AddProcess(pc)
		if err != nil {
			return err
		}
		surge = append(surge, p)
	}
	if err := supervisor.StartAll(ctx, surge); err != nil {
		return err
	}
	for i := 0; i < len(todo); i += batch {
		restart := todo[i:min(i+batch, len(todo))]
		progress("replacing %s (%d of %d)", namesOf(restart), min(i+batch, len(todo)), len(todo))
		wasLive := map[*supervisor.Process]bool{}
		for _, p := range restart {
			wasLive[p] = p.Info().State.IsRunning()
		}
		if err := supervisor.StopAll(ctx, restart); err != nil {
			return err
		}
		var start []*supervisor.Process
		for _, p := range restart {
			pc, _ := replace(p)
			if pc == nil {
				start = append(start, p)
				continue
			}
			pl.remove(p)
			np, err := pl.act.AddProcess(pc)
			if err != nil {
				return err
			}
			if wasLive[p] || pc.Autostart {
				start = append(start, np)
			}
		}
		for _, p := range start {
			p.ExpectRestart(supervisor.RestartRolling)
		}
		if err := supervisor.StartAll(ctx, start); err != nil {
			return err
		}
	}
	if err := pl.finishUpdate(ctx, next, dropped); err != nil {
		return err
	}
	progress("stopping the surge worker(s)")
	return nil
}

// finishUpdate starts the processes next adds, stops and removes those it
// dropped, and makes next the group's config.
func (pl *workerPool) finishUpdate(ctx context.Context, next *config.Group, dropped []*supervisor.Process) error {
	g := pl.act.Group()
	if g == nil {
		return supervisor.ErrNotActive
	}
	present := map[string]bool{}
	for _, p := range g.Processes {
		present[p.Config().Name] = true
	}
	var start []*supervisor.Process
	for _, pc := range next.Processes {
		if present[pc.Name] {
			continue
		}
		p, err := pl.act.AddProcess(pc)
		if err != nil {
			return err
		}
		if pc.Autostart {
			start = append(start, p)
		}
	}
	if err := supervisor.StartAll(ctx, start); err != nil {
		return err
	}
	for _, p := range dropped {
		if err := pl.stopAndRemove(ctx, p); err != nil {
			return err
		}
	}
	pl.act.SetConfig(next)
	return nil
}

func namesOf(ps []*supervisor.Process) string {
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
func (m *Pools) watchRestartKey(pl *workerPool, src config.QueueSource) {
	ctx := pl.act.Context()
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
				m.s.Logf(config.LevelWarn, "pool %s: rolling_restart_watch %s unreachable: %v", pl.name, src.Display, err)
			}
			healthy = false
		case !known:
			last, known, healthy = v, true, true
		default:
			if !healthy {
				m.s.Logf(config.LevelInfo, "pool %s: rolling_restart_watch %s reachable again", pl.name, src.Display)
			}
			healthy = true
			if v != last && m.s.Mood() == supervisor.MoodRunning {
				last = v
				m.s.Logf(config.LevelInfo, "pool %s: %s changed to %q: rolling restart", pl.name, src.Keys[0], v)
				if err := m.RollingRestart(ctx, pl.name, 1); err != nil {
					m.s.Logf(config.LevelWarn, "pool %s: rolling restart: %v", pl.name, err)
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
