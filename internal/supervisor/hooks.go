package supervisor

import (
	"context"
	"errors"
	"io"

	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/events"
	"github.com/drover/drover/internal/process"
)

// Hooks are where features attach to the core: worker pools
// (internal/pool), start gates (internal/gate), memory limits
// (internal/memlimit). Each may be nil. Hooks never run with a lock of
// the Supervisor held unless they say so.
type Hooks struct {
	// StartGate returns the start gate of a process being created; nil
	// when it has none (it starts at once).
	StartGate func(s *Supervisor, p *Process) StartGate
	// Output wraps the stdout writer of a process being created (its log,
	// already wrapped for events); it returns w when it has no use for it.
	Output func(pc *config.Process, w io.Writer) io.Writer
	// Started is called when the runners of program group g have
	// started, with the Supervisor's lock held: it may only record
	// g.Activation() and start goroutines with its Go.
	Started func(g *Group)
	// Pool reports the worker pool of g for Snapshot; false when g has
	// none.
	Pool func(g *Group) (WorkerPool, bool)
	// Busy reports whether the process is in the middle of a job
	// (ProcessSnapshot.Busy).
	Busy func(p *Process) bool
	// Replace gives the changed active group name its pending config in
	// place, without stopping it as a whole (a rolling update), for a
	// reload keeping unchanged programs: replaced is false, with a nil
	// error, when it cannot; the group is then stopped and added again.
	Replace func(ctx context.Context, name string) (replaced bool, err error)
	// Hold keeps the pool of the active group name from scaling or
	// rolling until release is called (an upgrade's freeze); err says why
	// it cannot now (a roll that cannot be handed over), wrapping
	// ErrHoldBusy when that lasts a moment (a scaling decision): the
	// freeze then tries again for a while.
	Hold func(name string) (release func(), err error)
	// Loops run from Run until the runners end, each in its own
	// goroutine, and are waited for before Run returns.
	Loops []func(ctx context.Context, s *Supervisor)
}

// ErrHoldBusy is wrapped by a Hooks.Hold refusal that lasts a moment.
var ErrHoldBusy = errors.New("busy for a moment")

// A StartGate holds back the starts of one process until what it waits
// for is there (depends_on, wait_for). The Process calls it only for a
// start from a stopped state; automatic restarts after an exit do not go
// through it.
type StartGate interface {
	// Start starts the process once the gate is open (Process.Start).
	Start(ctx context.Context, wait bool) error
	// Background starts the process once the gate is open, without
	// waiting for it (Process.Autostart).
	Background()
	// StopWaiting ends a background wait and reports whether one ran.
	StopWaiting() bool
	// Waiting says what the process waits for, "" for nothing.
	Waiting() string
}

// Start starts the process (Runner.Start) once its start gate is open; a
// process without a gate, or not in a stopped state, goes straight to its
// runner.
func (p *Process) Start(ctx context.Context, wait bool) error {
	if p.gate == nil || !p.Runner.Info().State.IsStopped() {
		return p.Runner.Start(ctx, wait)
	}
	return p.gate.Start(ctx, wait)
}

// Autostart starts the process as supervisord does by itself (autostart,
// a group added by update, a restart of its own): Runner.Autostart once its
// start gate is open, without waiting.
func (p *Process) Autostart(ctx context.Context) error {
	if p.gate == nil || !p.Runner.Info().State.IsStopped() {
		return p.Runner.Autostart(ctx)
	}
	p.gate.Background()
	return nil
}

// Stop stops the process (Runner.Stop). A process waiting in the background
// for its gate stops waiting: that counts as stopping it.
func (p *Process) Stop(ctx context.Context, wait bool) error {
	if p.gate != nil && p.gate.StopWaiting() && p.Runner.Info().State.IsStopped() {
		return nil
	}
	return p.Runner.Stop(ctx, wait)
}

// Info is Runner.Info plus what a gated process waits for.
func (p *Process) Info() process.Info {
	info := p.Runner.Info()
	if p.gate != nil {
		info.Waiting = p.gate.Waiting()
	}
	return info
}

// IfRunning runs f, and reports true, if the supervisor is RUNNING, with
// the set of groups held still: a shutdown cannot begin until f returns
// (the shutdown takes the same lock after changing the mood). Features
// start processes through it on their own (a gate opening, a restart over
// the memory limit). f must not change the set of groups.
func (s *Supervisor) IfRunning(f func()) bool {
	s.opMu.Lock()
	defer s.opMu.Unlock()
	if s.Mood() != MoodRunning {
		return false
	}
	f()
	return true
}

// Subscribe subscribes to the Supervisor's event bus (filtered, bounded:
// see events.Bus.Subscribe).
func (s *Supervisor) Subscribe(opts ...events.Option) *events.Subscription {
	return s.bus.Subscribe(opts...)
}

// Logf writes to the main log.
func (s *Supervisor) Logf(level config.LogLevel, format string, args ...any) {
	if s.opts.Log != nil {
		s.opts.Log.Logf(level, format, args...)
	}
}
