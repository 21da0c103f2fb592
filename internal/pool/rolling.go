package pool

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/process"
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
	return m.roll(ctx, pl, g.Config, batch, false, func(*supervisor.Process) (*config.Process, bool) { return nil, true })
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
	return m.roll(ctx, pl, next, batch, true, replace)
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
// does not name are stopped and removed at the end. update says the roll
// is a rolling update (the group takes next), not a restart.
func (m *Pools) roll(ctx context.Context, pl *workerPool, next *config.Group, batch int, update bool,
	replace func(*supervisor.Process) (*config.Process, bool)) error {
	batch = max(batch, 1)
	pl.roll.Lock()
	defer pl.roll.Unlock()
	pl.mu.Lock()
	frozen := pl.frozen
	pl.mu.Unlock()
	if frozen { // the roll before this one ended during an upgrade's switch
		return errors.New("the daemon is switching to a new image (an upgrade); roll again")
	}
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
	var todo []string
	var dropped []*supervisor.Process
	pl.mu.Lock()
	for _, p := range g.Processes {
		switch _, act := replace(p); {
		case pl.draining[p]:
		case !known[p.Config().Name]:
			dropped = append(dropped, p)
		case act:
			todo = append(todo, p.Config().Name)
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
	var surge []string
	for i := len(next.Spares) - 1; i >= 0 && len(surge) < batch; i-- {
		if pc := next.Spares[i]; !used[pc.Name] && !keep[pc.Name] {
			surge = append(surge, pc.Name)
		}
	}
	switch {
	case len(next.Spares) == 0:
		return fmt.Errorf("%w: process_name of %s has no %%(process_num), so no surge worker can start beside it",
			ErrNotRollable, pl.name)
	case len(surge) < batch:
		return fmt.Errorf("%w: group %s has %d free spare process numbers, fewer than a batch of %d",
			ErrNotRollable, pl.name, len(surge), batch)
	}
	st := &RollState{Update: update, Batch: batch, Surge: surge, Todo: todo}
	pl.updateRoll(func() { pl.rollPinned = pinnedBy(ctx) })
	defer pl.updateRoll(func() { pl.rollPinned = "" })
	return m.runRoll(ctx, pl, next, st, replace, dropped)
}

type pinnedKey struct{}

// PinToImage marks the rolls started with ctx as bound to this image: an
// upgrade is refused while one runs, saying who waits for it (why), where
// the waiter is in this image and could not learn the outcome from the
// next one (a fleet command, whose result this node reports).
func PinToImage(ctx context.Context, why string) context.Context {
	return context.WithValue(ctx, pinnedKey{}, why)
}

func pinnedBy(ctx context.Context) string {
	why, _ := ctx.Value(pinnedKey{}).(string)
	return why
}

// RollState is where a rolling restart or update stands: what an upgrade
// hands over for the next image to finish it. What it names is fixed
// before the roll acts (its surge workers, the processes to replace), and
// a step is recorded as done only once it is; every step can be done
// again from what the processes are then (a stop of a stopped process, a
// start of a running one, do nothing; one in progress is waited for), so
// the state taken at any moment resumes the roll with every process
// replaced once. Field names are part of the handover format.
type RollState struct {
	// Update is a rolling update (the processes take the group's new
	// config), not a restart.
	Update bool `json:"update,omitempty"`
	Batch  int  `json:"batch"`
	// Surge are the surge workers' process names, Todo those of the
	// processes to replace, in order; Done of them are replaced.
	Surge []string `json:"surge"`
	Todo  []string `json:"todo"`
	Done  int      `json:"done"`
	// Stopped says the batch after Done is stopped (a process of it that
	// takes a new config may be removed already): it is to start.
	Stopped bool `json:"stopped,omitempty"`
	// Idle are the processes of that batch left stopped: a rolling update
	// of a process that was not running and does not autostart.
	Idle []string `json:"idle,omitempty"`
	// Ending says the surge workers are being stopped: the roll is done.
	Ending bool `json:"ending,omitempty"`
}

// batchNames is the batch after Done.
func (st *RollState) batchNames() []string {
	return st.Todo[st.Done:min(st.Done+st.Batch, len(st.Todo))]
}

// runRoll carries st out from where it stands (see RollState) and
// publishes it as pl's roll in progress meanwhile; pl.roll is held. The
// processes of dropped are stopped and removed at the end.
func (m *Pools) runRoll(ctx context.Context, pl *workerPool, next *config.Group, st *RollState,
	replace func(*supervisor.Process) (*config.Process, bool), dropped []*supervisor.Process) error {
	pl.setRoll(st, len(dropped))
	defer pl.setRoll(nil, 0)
	defer pl.setStatus(func(st *supervisor.WorkerPool) { st.Rolling = "" })
	progress := func(format string, a ...any) {
		msg := fmt.Sprintf(format, a...)
		pl.setStatus(func(st *supervisor.WorkerPool) { st.Rolling = msg })
		m.s.Logf(config.LevelInfo, "rolling restart of %s: %s", pl.name, msg)
	}
	defer func() {
		for _, p := range pl.present(st.Surge) {
			if err := pl.stopAndRemove(context.WithoutCancel(ctx), p); err != nil {
				m.s.Logf(config.LevelWarn, "rolling restart of %s: %v", pl.name, err)
			}
		}
	}()
	if st.Ending {
		progress("stopping the surge worker(s)")
		return nil
	}
	if up := pl.present(st.Surge); len(up) < len(st.Surge) || slices.ContainsFunc(up, func(p *supervisor.Process) bool {
		return p.Info().State != process.Running
	}) {
		progress("starting %d surge worker(s)", len(st.Surge))
	}
	surge, err := pl.ensure(next, st.Surge)
	if err != nil {
		return err
	}
	if err := startAll(ctx, surge, false); err != nil {
		return err
	}
	for st.Done < len(st.Todo) {
		names := st.batchNames()
		progress("replacing %s (%d of %d)", strings.Join(names, ", "), st.Done+len(names), len(st.Todo))
		if !st.Stopped {
			restart := pl.present(names)
			var idle []string
			for _, p := range restart {
				if pc, _ := replace(p); pc != nil && !pc.Autostart && !p.Info().State.IsRunning() {
					idle = append(idle, p.Config().Name)
				}
			}
			if err := stopAll(ctx, restart); err != nil {
				return err
			}
			pl.updateRoll(func() { st.Stopped, st.Idle = true, idle })
		}
		for _, p := range pl.present(names) {
			if pc, _ := replace(p); pc != nil {
				pl.remove(p)
			}
		}
		batch, err := pl.ensure(next, names)
		if err != nil {
			return err
		}
		batch = slices.DeleteFunc(batch, func(p *supervisor.Process) bool { return slices.Contains(st.Idle, p.Config().Name) })
		if err := startAll(ctx, batch, true); err != nil {
			return err
		}
		pl.updateRoll(func() { st.Done, st.Stopped, st.Idle = st.Done+len(names), false, nil })
	}
	if err := pl.finishUpdate(ctx, next, dropped); err != nil {
		return err
	}
	pl.updateRoll(func() { st.Ending = true })
	progress("stopping the surge worker(s)")
	return nil
}

// present returns the processes of pl's group called names, in that
// order, leaving out those it does not have.
func (pl *workerPool) present(names []string) []*supervisor.Process {
	g := pl.act.Group()
	if g == nil {
		return nil
	}
	var out []*supervisor.Process
	for _, name := range names {
		if i := slices.IndexFunc(g.Processes, func(p *supervisor.Process) bool { return p.Config().Name == name }); i >= 0 {
			out = append(out, g.Processes[i])
		}
	}
	return out
}

// ensure returns the processes of pl's group called names, adding from
// next those it does not have.
func (pl *workerPool) ensure(next *config.Group, names []string) ([]*supervisor.Process, error) {
	have := pl.present(names)
	for _, name := range names {
		if slices.ContainsFunc(have, func(p *supervisor.Process) bool { return p.Config().Name == name }) {
			continue
		}
		all := append(slices.Clone(next.Processes), next.Spares...)
		i := slices.IndexFunc(all, func(pc *config.Process) bool { return pc.Name == name })
		if i < 0 {
			return nil, fmt.Errorf("%s has no process %s", pl.name, name)
		}
		p, err := pl.act.AddProcess(all[i])
		if err != nil {
			return nil, err
		}
		have = append(have, p)
	}
	return have, nil
}

// settleEvery is how often a roll looks at a process it waits for.
const settleEvery = 50 * time.Millisecond

// startAll starts ps together and waits until each is RUNNING; a process
// already starting (a resumed roll) is waited for, one stopping is
// started once stopped. restart counts the start as a rolling restart.
func startAll(ctx context.Context, ps []*supervisor.Process, restart bool) error {
	for _, p := range ps {
		if err := awaitStopped(ctx, p); err != nil {
			return err
		}
		if restart && p.Info().State.IsStopped() {
			p.ExpectRestart(supervisor.RestartRolling)
		}
	}
	if err := supervisor.StartAll(ctx, ps); err != nil {
		return err
	}
	for _, p := range ps {
		for s := p.Info().State; s != process.Running; s = p.Info().State {
			if s != process.Starting && s != process.Backoff {
				return fmt.Errorf("start %s: %w (%s)", p.Namespec, process.ErrAbnormalTermination, s)
			}
			if err := sleepCtx(ctx, settleEvery); err != nil {
				return err
			}
		}
	}
	return nil
}

// stopAll stops ps together (gracefully) and waits until each is stopped,
// a stop already in progress (a resumed roll) included.
func stopAll(ctx context.Context, ps []*supervisor.Process) error {
	if err := supervisor.StopAll(ctx, ps); err != nil {
		return err
	}
	for _, p := range ps {
		if err := awaitStopped(ctx, p); err != nil {
			return err
		}
	}
	return nil
}

// awaitStopped waits while p is STOPPING.
func awaitStopped(ctx context.Context, p *supervisor.Process) error {
	for p.Info().State == process.Stopping {
		if err := sleepCtx(ctx, settleEvery); err != nil {
			return err
		}
	}
	return nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
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
