// Package gate holds back the starts of processes with depends_on or
// wait_for (start gates): such a process starts only once every process of
// each program it depends on is RUNNING (and passes that program's
// ready_check) and every wait_for check passes. Meanwhile it stays in its
// stopped state, and its description says what it waits for.
//
// Starts from a stopped state go through the gate: autostart, a start
// request, a pool growing. Automatic restarts after an exit (autorestart,
// BACKOFF retries) do not: the runner does them on its own. The gate
// attaches to the core with supervisor.Hooks.StartGate (New), follows
// state changes through a bounded, filtered subscription and starts the
// process through supervisor.IfRunning.
package gate

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/events"
	"github.com/drover/drover/internal/guard"
	"github.com/drover/drover/internal/probe"
	"github.com/drover/drover/internal/process"
	"github.com/drover/drover/internal/supervisor"
)

// startGate holds back the starts of one process.
type startGate struct {
	s *supervisor.Supervisor
	p *supervisor.Process
	w *config.Worker

	mu         sync.Mutex
	note       string      // what the process waits for; "" when no waiter has said
	waiters    int         // running waits (background and start requests)
	background *gateWaiter // the waiter that starts the process when the gate opens; nil when none
}

// gateWaiter identifies one background wait so that only it clears itself.
type gateWaiter struct{ cancel context.CancelFunc }

// New returns the gate of p, nil when p has no depends_on or wait_for
// (supervisor.Hooks.StartGate).
func New(s *supervisor.Supervisor, p *supervisor.Process) supervisor.StartGate {
	w := p.Config().Worker
	if !w.Gated() {
		return nil
	}
	return &startGate{s: s, p: p, w: w}
}

// Start is Process.Start of a stopped process: with wait, it waits for
// the gate at most ready_timeout, then fails with a SpawnError saying
// what is still missing; without, a background waiter starts it.
func (g *startGate) Start(ctx context.Context, wait bool) error {
	if !wait {
		g.Background()
		return nil
	}
	process.NoteDeferred(ctx)
	wctx := ctx
	if g.w.ReadyTimeout > 0 {
		var cancel context.CancelFunc
		wctx, cancel = context.WithTimeout(ctx, g.w.ReadyTimeout)
		defer cancel()
	}
	note, err := g.wait(wctx)
	switch {
	case err != nil && ctx.Err() == nil && wctx.Err() != nil:
		msg := fmt.Sprintf("still %s after ready_timeout (%s)", note, g.w.ReadyTimeout)
		g.s.Logf(config.LevelWarn, "%s: %s", g.p.Namespec, msg)
		return &process.SpawnError{Kind: process.SpawnFailed, Msg: msg}
	case err != nil:
		return err
	}
	// This start wins over a background waiter, which could otherwise start
	// the process again after it has stopped.
	g.StopWaiting()
	return g.p.Runner.Start(ctx, true)
}

// Background starts the background waiter unless one runs.
func (g *startGate) Background() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.background != nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	w := &gateWaiter{cancel: cancel}
	g.background = w
	guard.Go("start gate of "+g.p.Namespec, func() {
		defer cancel()
		_, err := g.wait(ctx)
		g.mu.Lock()
		if g.background == w {
			g.background = nil
		}
		g.mu.Unlock()
		if err != nil {
			return
		}
		g.s.IfRunning(func() {
			if ctx.Err() == nil {
				// A failed spawn is the runner's to log and retry; the
				// caller had its answer long ago, so a command that cannot
				// run goes through spawnerr where the log shows it.
				_ = g.p.Runner.Autostart(ctx)
			}
		})
	})
}

// StopWaiting ends the background waiter; it reports whether one ran.
func (g *startGate) StopWaiting() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.background == nil {
		return false
	}
	g.background.cancel()
	g.background = nil
	return true
}

// Waiting says what the process waits for.
func (g *startGate) Waiting() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.note
}

// setNote records what the process waits for and reports whether that
// changed (two waiters, a background one and a start request, share it).
func (g *startGate) setNote(note string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	changed := g.note != note
	g.note = note
	return changed
}

// wait returns once the gate is open (nil), or with what it still waited
// for when ctx ends, the supervisor leaves RUNNING or the runner is gone.
// Dependency states are re-read on every state change; checks run every
// ready_interval.
func (g *startGate) wait(ctx context.Context) (string, error) {
	// Events only wake the gate, which reads the states itself: a lost one
	// costs nothing, and PROCESS_LOG data never reaches it.
	sub := g.s.Subscribe(events.Named("gate"), events.Kinds("PROCESS_STATE", "SUPERVISOR_STATE_CHANGE_STOPPING"), events.Buffer(256))
	defer sub.Close()
	g.mu.Lock()
	g.waiters++
	g.mu.Unlock()
	defer func() {
		g.mu.Lock()
		if g.waiters--; g.waiters == 0 {
			g.note = ""
		}
		g.mu.Unlock()
	}()
	name := g.p.Namespec
	last := ""
	timer := time.NewTimer(g.w.ReadyInterval)
	defer timer.Stop()
	for {
		if g.s.Mood() != supervisor.MoodRunning {
			return last, supervisor.ErrShuttingDown
		}
		note, onState := waitNote(ctx, g.s, g.w)
		if note == "" {
			if last != "" {
				g.s.Logf(config.LevelInfo, "%s: done waiting, starting", name)
			}
			return "", nil
		}
		if note != last {
			if g.setNote(note) {
				g.s.Logf(config.LevelInfo, "%s: %s", name, note)
			}
			last = note
		}
		timer.Reset(g.w.ReadyInterval)
	sleep:
		for {
			select {
			case <-ctx.Done():
				return last, ctx.Err()
			case <-g.p.Runner.Done():
				return last, process.ErrRunnerDone
			case <-timer.C:
				break sleep
			case <-sub.Ready():
				if wakes(sub.Next(), onState) {
					break sleep
				}
			}
		}
	}
}

// wakes reports whether evs call for a new look at the gate: a shutdown
// always, a process state change when waiting for a dependency's state.
func wakes(evs []events.Event, onState bool) bool {
	for _, e := range evs {
		switch e.(type) {
		case events.SupervisorStopping:
			return true
		case events.ProcessState:
			if onState {
				return true
			}
		}
	}
	return false
}

// waitNote says what a process with options w waits for, "" when nothing.
// onState says it waits for a dependency's state (cheap to re-read), not
// for a check. States are looked at before any check runs.
func waitNote(ctx context.Context, s *supervisor.Supervisor, w *config.Worker) (note string, onState bool) {
	all := s.AllProcesses()
	deps := make(map[string][]*supervisor.Process, len(w.DependsOn))
	for _, p := range all {
		deps[p.Config().ProgramName] = append(deps[p.Config().ProgramName], p)
	}
	for _, dep := range w.DependsOn {
		if len(deps[dep]) == 0 {
			return fmt.Sprintf("waiting for %s (not active)", dep), true
		}
		for _, d := range deps[dep] {
			if st := d.Info().State; st != process.Running {
				return fmt.Sprintf("waiting for %s (%s)", dep, st), true
			}
		}
	}
	timeout := min(max(w.ReadyInterval, time.Second), 10*time.Second)
	passes := func(c config.Check) bool {
		pctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		return probe.Run(pctx, c) == nil
	}
	for _, dep := range w.DependsOn {
		for _, d := range deps[dep] {
			if dw := d.Config().Worker; dw != nil && dw.ReadyCheck != nil && !passes(*dw.ReadyCheck) {
				return fmt.Sprintf("waiting for %s (%s)", dep, dw.ReadyCheck), false
			}
		}
	}
	for _, c := range w.WaitFor {
		if !passes(c) {
			return "waiting for " + c.Display, false
		}
	}
	return "", false
}
