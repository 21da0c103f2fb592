package process

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/events"
	"github.com/drover/drover/internal/guard"
	"github.com/drover/drover/internal/latch"
)

// Runner supervises one process. Its state is owned by whichever goroutine
// drains its mailbox (drain), one at a time: the caller of a command, a
// fired timer's or a cancelled context's goroutine, or one started for a
// child's exit. No goroutine is kept per Runner while nothing happens: with
// 2,000 programs, one parked goroutine each was the largest part of the
// daemon's memory per program (docs/benchmark.md).
type Runner struct {
	cfg  *config.Process
	opts Options // Spawner set (ForkExec when not given)
	// lastOutput is the latest child, which says when its output is all
	// written (nil if it cannot); asked only at the end (awaitOutput).
	lastOutput drainer
	info       atomic.Pointer[Info]
	stdin      atomic.Pointer[stdinPipe] // live child's stdin; nil when none or stopping

	mu       sync.Mutex
	mailbox  []input // inputs not yet handled, in order
	draining bool    // a goroutine drains the mailbox (or Begin has not been called)
	frozen   bool    // by Freeze: inputs wait for the thaw
	over     bool    // ended: no input is taken
	// Owned by the drainer, packed beside the flags above: with them the
	// Runner fits a 512-byte size class.
	closing    bool // ctx done: stopping for good
	timerArmed bool // the timer is set and has not fired; timerDeadline is when it fires
	// done is set when the Runner has ended (guarded by mu); its channel
	// is made by the first Done: most Runners are never waited for.
	done latch.Latch

	// Owned by the drainer.
	st            status
	child         Child
	timer         *time.Timer
	timerGen      int
	waiters       []*waiter
	release       func()   // gives back the live child's Options.ChildStdin file; nil if none
	inflight      *command // the command being handled, answered by failed after a panic
	lastExit      ExitStatus
	timerDeadline time.Time
	adopted       *Snapshot   // set by Adopt: Begin queues it first
	stopCtx       func() bool // undoes Begin's watch of its ctx
	onEnd         func()      // Begin's, called once ended
}

type stdinPipe struct{ w io.Writer }

// input is one item of the mailbox: a command, or one of the types below.
type input any

type (
	exitInput  struct{ es ExitStatus } // the live child's exit (sendExit)
	timerInput struct{ gen int }       // the timer armed with gen fired
	closeInput struct{}                // Begin's ctx is done, or Close
	adoptInput struct{ s Snapshot }    // Adopt's snapshot, the first input
)

// command is a request to the Runner; reply gets the outcome.
type command struct {
	ev    event
	wait  bool
	reply chan result
}

// result answers a command; pending says a waiter was registered and the
// final result follows on the same channel.
type result struct {
	err     error
	pending bool
}

// waiter is a Start(wait) or Stop(wait) caller waiting for a target state.
type waiter struct {
	start bool
	reply chan result
}

const (
	reportEvery = 2 * time.Second       // "waiting for x to stop" throttle
	reportGrace = 50 * time.Millisecond // before the first one
)

// NewRunner returns a Runner in state STOPPED. It starts no goroutine, and
// handles no command before Begin.
func NewRunner(cfg *config.Process, opts Options) *Runner {
	if opts.Spawner == nil {
		opts.Spawner = ForkExec()
	}
	r := &Runner{
		cfg: cfg, opts: opts,
		draining: true, // until Begin
		st:       status{state: Stopped},
	}
	r.storeInfo()
	return r
}

// Begin makes the Runner take commands, exits and timers until ctx is
// done or Close is called, then stop its child as Stop would (SIGKILL after stopwaitsecs) and
// end: Done is closed once no child of this Runner is left alive, and then
// onEnd (if not nil) is called. Begin returns at once and starts no
// goroutine that outlives its work. It must be called once.
func (r *Runner) Begin(ctx context.Context, onEnd func()) {
	r.onEnd = onEnd
	r.mu.Lock()
	if s := r.adopted; s != nil {
		r.adopted = nil
		r.mailbox = slices.Insert(r.mailbox, 0, input(adoptInput{*s}))
	}
	r.mu.Unlock()
	if ctx.Done() != nil {
		r.stopCtx = context.AfterFunc(ctx, func() { r.postAndDrain(closeInput{}) })
	}
	r.mu.Lock()
	start := len(r.mailbox) > 0
	r.draining = start
	r.mu.Unlock()
	if start {
		guard.Go(r.what(), func() { r.drain(nil) })
	}
}

// Close ends the Runner as the end of Begin's ctx does, in a goroutine of
// its own as a context's callback would; it returns at once. It is for a
// caller ending many Runners together, which then need no context callback
// each (about 0.5 KB a Runner with the context's records).
func (r *Runner) Close() {
	if drain, _ := r.post(closeInput{}); drain {
		guard.Go(r.what(), func() { r.drain(nil) })
	}
}

// Run is Begin, then waiting until the Runner has ended (Done).
func (r *Runner) Run(ctx context.Context) error {
	r.Begin(ctx, nil)
	<-r.Done()
	return nil
}

func (r *Runner) what() string { return "runner of program " + r.cfg.Name }

// post puts in the mailbox. It reports whether the caller is to drain it
// now (no one else does), and accepted false if the Runner has ended.
func (r *Runner) post(in input) (drain, accepted bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.over {
		return false, false
	}
	r.mailbox = append(r.mailbox, in)
	if r.draining || r.frozen {
		return false, true
	}
	r.draining = true
	return true, true
}

// postAndDrain posts in and drains if no one else does: for goroutines
// that may block (a timer's, a context's).
func (r *Runner) postAndDrain(in input) {
	if drain, _ := r.post(in); drain {
		r.drain(nil)
	}
}

// drain handles the mailbox in order until it is empty, the Runner is
// frozen, or it ends. A command's caller drains with its own command as
// mine: once that is handled it leaves the rest, and the Runner's end, to
// a new goroutine, so it does not do other inputs' work (an autorestart's
// spawn, releasing logs) while holding whatever it holds.
func (r *Runner) drain(mine *command) {
	handOff := false
	for {
		r.mu.Lock()
		if len(r.mailbox) == 0 || r.frozen {
			r.draining = false
			if len(r.mailbox) == 0 {
				r.mailbox = nil // an idle Runner holds no backing array
			}
			r.mu.Unlock()
			return
		}
		if handOff {
			r.mu.Unlock()
			guard.Go(r.what(), func() { r.drain(nil) })
			return
		}
		in := r.mailbox[0]
		r.mailbox[0] = nil
		r.mailbox = r.mailbox[1:]
		r.mu.Unlock()
		if p := guard.Run(r.what(), func() { r.dispatch(in) }); p != nil {
			r.failed(p)
		}
		if c, ok := in.(command); ok && mine != nil && c.reply == mine.reply {
			handOff = true
		}
		if r.closing && r.child == nil {
			if mine != nil {
				guard.Go(r.what(), r.end)
			} else {
				r.end()
			}
			return
		}
	}
}

// dispatch handles one input.
func (r *Runner) dispatch(in input) {
	switch in := in.(type) {
	case closeInput:
		r.closing = true
		r.shutdown()
	case command:
		if f, ok := in.ev.(freezeCmd); ok {
			r.freeze(f, in.reply)
			return
		}
		r.inflight = &in
		r.command(in)
		r.inflight = nil
	case exitInput:
		r.exited(in.es)
	case timerInput:
		if in.gen == r.timerGen {
			// Dropped once fired (arm makes a new one): a RUNNING
			// program keeps no timer after its startsecs.
			r.timerArmed, r.timer = false, nil
		}
		r.handle(timerFired{in.gen})
	case adoptInput:
		r.adopt(in.s)
	}
}

// exited handles the exit of the live child.
func (r *Runner) exited(es ExitStatus) {
	r.child = nil
	r.lastExit = es
	// Released once the exit is handled, so "stopped: x" is logged
	// before the socket's "Closing socket" as in Supervisor; an
	// immediate autorestart takes the socket over without closing it.
	release := r.release
	r.release = nil
	r.handle(exited{es})
	if release != nil {
		release()
	}
}

// end finishes the Runner once it is closing and its child is gone: the
// last output is awaited, every command still queued and every waiter is
// answered ErrRunnerDone, Done is closed and onEnd called.
func (r *Runner) end() {
	r.awaitOutput()
	if r.stopCtx != nil {
		r.stopCtx()
	}
	if r.timer != nil {
		r.timer.Stop()
	}
	r.mu.Lock()
	r.over = true
	left := r.mailbox
	r.mailbox = nil
	r.mu.Unlock()
	for _, in := range left {
		if c, ok := in.(command); ok {
			c.reply <- result{err: ErrRunnerDone}
		}
	}
	for _, w := range r.waiters {
		w.reply <- result{err: ErrRunnerDone}
	}
	r.waiters = nil
	r.mu.Lock()
	r.done.Set()
	r.mu.Unlock()
	if r.onEnd != nil {
		r.onEnd()
	}
}

// failed leaves the process in a safe, visible state after a panic in its
// runner (reported by the guard): the child, if any, is killed with its
// group (its exit is still reaped), and the process is FATAL with the panic
// as its spawnerr, from where a start spawns it afresh. The command being
// handled and every waiter get their answer.
func (r *Runner) failed(p *guard.Panic) {
	if r.child != nil {
		_ = r.child.Signal(syscall.SIGKILL, true)
	}
	if r.inflight != nil {
		select {
		case r.inflight.reply <- result{err: p}:
		default:
		}
		r.inflight = nil
	}
	from := r.st.state
	r.st.timerGen++
	r.st.backoff = 0
	r.st.state = Fatal
	r.st.spawnErr = fmt.Sprintf("internal error: %v", p.Value)
	r.stdin.Store(nil)
	r.storeInfo()
	r.logf(config.LevelCritical, "%s entered FATAL state after an internal error: %v", r.cfg.Name, p.Value)
	r.opts.Events.Publish(events.ProcessState{Process: r.cfg.Name, Group: r.cfg.Group, From: from.String(), To: Fatal.String()})
	r.answerWaiters()
}

// outputDrainGrace bounds how long a Runner, once its child is gone, waits for
// the child's last output to reach its writers: long enough for a pipe's
// worth of buffered bytes, short enough that a grandchild still holding the
// pipe open cannot hold up a shutdown.
const outputDrainGrace = 2 * time.Second

// drainer is a Child that says when its output has all been copied out.
type drainer interface {
	Drained() <-chan struct{}
}

// awaitOutput waits, within outputDrainGrace, until the last child's output
// has been written, so the owner may close the log files once it has ended
// without losing the tail of that output.
func (r *Runner) awaitOutput() {
	if r.lastOutput == nil {
		return
	}
	t := time.NewTimer(outputDrainGrace)
	defer t.Stop()
	select {
	case <-r.lastOutput.Drained():
	case <-t.C:
	}
}

// shutdown starts stopping the child for good.
func (r *Runner) shutdown() {
	r.handle(holdCmd{})
	switch {
	case r.st.state == Starting || r.st.state == Running || r.st.state == Backoff:
		r.handle(stopCmd{shutdown: true})
	case r.child != nil && r.st.state == Unknown:
		// Nothing graceful is left to try for a child in an unknown state.
		_ = r.child.Signal(syscall.SIGKILL, r.cfg.KillAsGroup || r.cfg.StopAsGroup)
	}
}

func (r *Runner) command(c command) {
	if start, ok := c.ev.(startCmd); ok {
		if r.closing {
			c.reply <- result{err: ErrRunnerDone}
			return
		}
		// startProcess checks the command before looking at the state.
		if !start.auto {
			if err := r.opts.Spawner.Check(newCommand(r.cfg, &r.opts)); err != nil {
				c.reply <- result{err: err}
				return
			}
		}
	}
	replied, res := r.handle(c.ev)
	if replied {
		c.reply <- result{err: res}
		return
	}
	w := &waiter{reply: c.reply}
	switch c.ev.(type) {
	case startCmd:
		w.start = true
		if r.st.spawnErr != "" || !c.wait {
			c.reply <- result{err: startResult(r.st, true)}
			return
		}
	case stopCmd:
		if !c.wait {
			c.reply <- result{}
			return
		}
	default:
		c.reply <- result{}
		return
	}
	if done, err := w.check(r.st); done {
		c.reply <- result{err: err}
		return
	}
	c.reply <- result{pending: true}
	r.waiters = append(r.waiters, w)
}

// startResult is startProcess's outcome in state st (spawnerr first).
func startResult(st status, final bool) error {
	switch {
	case st.spawnErr != "":
		return &SpawnError{Kind: SpawnFailed, Msg: st.spawnErr}
	case st.state == Running, final:
		return nil
	}
	return ErrAbnormalTermination
}

// check reports whether the waiter is answered in state st, and with what.
func (w *waiter) check(st status) (bool, error) {
	if !w.start {
		return st.state.IsStopped(), nil
	}
	if st.spawnErr != "" || st.state != Starting {
		return true, startResult(st, false)
	}
	return false, nil
}

// handle runs ev and the events its actions produce through step, carries
// out the actions, and answers waiters. It reports the reply action, if any.
func (r *Runner) handle(ev event) (replied bool, err error) {
	queue := []event{ev}
	for len(queue) > 0 {
		ev, queue = queue[0], queue[1:]
		var acts []action
		r.st, acts = step(r.st, r.cfg, ev, time.Now())
		for _, a := range acts {
			switch a := a.(type) {
			case spawnAct:
				queue = append(queue, r.spawn())
			case signalAct:
				if e := r.signal(a); e != nil {
					queue = append(queue, signalFailed{a, e.Error()})
				}
			case armTimer:
				r.arm(a)
			case publish:
				// Subscribers woken by the event must read the new state.
				r.storeInfo()
				r.opts.Events.Publish(a.ev)
			case logAct:
				r.logf(a.level, "%s", a.msg)
			case reply:
				err, replied = a.err, true
			}
		}
	}
	if r.st.state != Starting && r.st.state != Running {
		r.stdin.Store(nil)
	}
	r.storeInfo()
	r.answerWaiters()
	return replied, err
}

func (r *Runner) spawn() event {
	if r.opts.BeforeSpawn != nil {
		r.opts.BeforeSpawn()
	}
	cmd := newCommand(r.cfg, &r.opts)
	var release func()
	if r.opts.ChildStdin != nil {
		f, rel, err := r.opts.ChildStdin()
		if err != nil {
			return spawnFailed{err.Error()}
		}
		cmd.Stdin, release = f, rel
	}
	outs := r.childWriters(cmd)
	c, err := r.opts.Spawner.Spawn(cmd)
	if err != nil {
		if release != nil {
			release()
		}
		return spawnFailed{err.Error()}
	}
	r.watch(c, outs)
	r.release = release
	return spawned{c.PID()}
}

// childWriters gives cmd the per-child writers of Options.Stdout and
// Stderr (SpawnWriter) and returns them, to be told the child's pid.
func (r *Runner) childWriters(cmd *Command) []ChildWriter {
	var outs []ChildWriter
	perChild := func(w io.Writer) io.Writer {
		if sw, ok := w.(SpawnWriter); ok {
			cw := sw.ForSpawn()
			outs = append(outs, cw)
			return cw
		}
		return w
	}
	cmd.Stdout = perChild(cmd.Stdout)
	if cmd.RedirectStderr {
		cmd.Stderr = cmd.Stdout
	} else {
		cmd.Stderr = perChild(cmd.Stderr)
	}
	return outs
}

// watch makes c the live child: its stdin is offered to WriteStdin, its
// writers learn its pid, and a poller (NotifyExit) or else a waiter
// goroutine reports its exit.
func (r *Runner) watch(c Child, outs []ChildWriter) {
	// Stdin first: a writer told the pid may write to it at once (an event
	// listener's pool sends it the events waiting).
	if w := c.Stdin(); w != nil {
		r.stdin.Store(&stdinPipe{w})
	}
	for _, cw := range outs {
		cw.Spawned(c.PID())
	}
	r.child = c
	r.lastOutput = nil
	if d, ok := c.(drainer); ok {
		r.lastOutput = d
	}
	if n, ok := c.(exitNotifier); ok && n.NotifyExit(r.cfg.Name, r.sendExit) {
		return
	}
	guard.Go("waiter of program "+r.cfg.Name, func() {
		es := ExitStatus{Code: -1}
		// Deferred, the exit is sent even if Wait panics: the runner
		// then sees the child gone rather than waiting for it forever.
		defer func() { r.sendExit(es) }()
		es = c.Wait()
	})
}

// exitNotifier is a Child that can report its exit with no goroutine
// waiting for it (see child.NotifyExit).
type exitNotifier interface {
	NotifyExit(name string, onExit func(ExitStatus)) bool
}

// sendExit hands the exit of the live child to the Runner. It must not
// block (a poller calls it): if no one drains the mailbox, a new goroutine does.
func (r *Runner) sendExit(es ExitStatus) {
	if drain, _ := r.post(exitInput{es}); drain {
		guard.Go(r.what(), func() { r.drain(nil) })
	}
}

// signal sends a signal; ESRCH means the child is already gone, which its
// exit will show.
func (r *Runner) signal(a signalAct) error {
	if r.child == nil {
		return nil
	}
	err := r.child.Signal(a.sig, a.group)
	if errors.Is(err, syscall.ESRCH) || errors.Is(err, os.ErrProcessDone) {
		r.logf(config.LevelDebug, "unable to signal %s (pid %d), it probably just died: %v", r.cfg.Name, r.st.pid, err)
		return nil
	}
	return err
}

// arm replaces the timer by one that posts timerInput{a.gen} after a.d; one
// that fired before it was replaced is ignored by its stale generation.
func (r *Runner) arm(a armTimer) {
	r.timerGen = a.gen
	r.timerArmed, r.timerDeadline = true, time.Now().Add(a.d)
	if r.timer != nil {
		r.timer.Stop()
	}
	r.timer = time.AfterFunc(a.d, func() { r.postAndDrain(timerInput{a.gen}) })
}

func (r *Runner) answerWaiters() {
	kept := r.waiters[:0]
	for _, w := range r.waiters {
		if done, err := w.check(r.st); done {
			w.reply <- result{err: err}
			continue
		}
		kept = append(kept, w)
	}
	clear(r.waiters[len(kept):])
	r.waiters = kept
}

func (r *Runner) logf(level config.LogLevel, format string, args ...any) {
	if r.opts.Log != nil {
		r.opts.Log.Logf(level, format, args...)
	}
}

func (r *Runner) storeInfo() {
	info := &Info{
		Name: r.cfg.Name, Group: r.cfg.Group,
		State: r.st.state, Start: r.st.start, Stop: r.st.stop,
		PID: r.st.pid, ExitStatus: r.st.exitStatus, SpawnErr: r.st.spawnErr,
		StdoutLog: r.opts.StdoutLog, LastExit: r.lastExit,
	}
	if !r.cfg.RedirectStderr {
		info.StderrLog = r.opts.StderrLog
	}
	r.info.Store(info)
}

// Config returns the process configuration.
func (r *Runner) Config() *config.Process { return r.cfg }

// Info returns a snapshot without waiting for the drainer.
func (r *Runner) Info() Info { return *r.info.Load() }

// Done is closed when the Runner has ended (the runner takes no more commands).
func (r *Runner) Done() <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.done.Chan()
}

type deferredKey struct{}

// WithDeferredNotice returns ctx carrying notify, which a Start or Stop
// called with it runs (once) when its answer is deferred, i.e. it has to
// wait for the process to reach its target state: Supervisor answers such
// requests through deferred callbacks, after the immediate answers of the
// same request, so requests over many processes order their results by it.
func WithDeferredNotice(ctx context.Context, notify func()) context.Context {
	return context.WithValue(ctx, deferredKey{}, notify)
}

// NoteDeferred runs the notice ctx carries (WithDeferredNotice), if any.
// Wrappers of Start that wait before calling it (start gates) call it too.
func NoteDeferred(ctx context.Context) {
	if notify, ok := ctx.Value(deferredKey{}).(func()); ok {
		notify()
	}
}

// call posts a command and waits for its final result, calling
// onPending and the ctx's deferred notice once if the Runner registered a waiter.
func (r *Runner) call(ctx context.Context, ev event, wait bool, onPending func()) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c := command{ev: ev, wait: wait, reply: make(chan result, 2)}
	drain, ok := r.post(c)
	if !ok {
		return ErrRunnerDone
	}
	if drain {
		r.drain(&c)
	}
	for {
		select {
		case res := <-c.reply:
			if !res.pending {
				return res.err
			}
			if onPending != nil {
				onPending()
			}
			NoteDeferred(ctx)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Start starts the process. With wait it returns once RUNNING (nil), or with
// *SpawnError (SPAWN_ERROR/NO_FILE/NOT_EXECUTABLE) or ErrAbnormalTermination;
// ErrAlreadyStarted in STARTING/RUNNING/BACKOFF; ErrUnknownState in UNKNOWN.
// Without wait it returns right after the spawn attempt.
func (r *Runner) Start(ctx context.Context, wait bool) error {
	return r.call(ctx, startCmd{wait: wait}, wait, nil)
}

// Autostart starts the process as supervisord does by itself (autostart,
// a group added by update): without startProcess's checks, so a command
// that cannot be run is tried, logged as spawnerr and retried through
// BACKOFF to FATAL, as Supervisor's spawn does. It does not wait.
func (r *Runner) Autostart(ctx context.Context) error {
	return r.call(ctx, startCmd{auto: true}, false, nil)
}

// Stop stops the process (stopsignal, then SIGKILL after stopwaitsecs; BACKOFF → STOPPED at once).
// ErrNotRunning unless STARTING/RUNNING/BACKOFF. With wait it returns once in a stopped state,
// logging "waiting for x to stop" every 2 s meanwhile, as Supervisor's stopProcess does.
func (r *Runner) Stop(ctx context.Context, wait bool) error {
	return r.stop(ctx, stopCmd{}, wait)
}

// StopForShutdown is Stop as supervisord's stop_all does it: BACKOFF → FATAL.
func (r *Runner) StopForShutdown(ctx context.Context, wait bool) error {
	return r.stop(ctx, stopCmd{shutdown: true}, wait)
}

func (r *Runner) stop(ctx context.Context, ev stopCmd, wait bool) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	return r.call(ctx, ev, wait, func() {
		guard.Go("stop report of program "+r.cfg.Name, func() { r.reportStopping(ctx) })
	})
}

// reportStopping logs "waiting for x to stop" while STOPPING: first after
// reportGrace (Supervisor checks right after the kill and its first poll,
// so a child that dies at once is not reported), then every 2 s.
func (r *Runner) reportStopping(ctx context.Context) {
	wait := reportGrace
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		if r.Info().State == Stopping {
			r.logf(config.LevelInfo, "waiting for %s to stop", r.cfg.Name)
		}
		wait = reportEvery
	}
}

// HoldRestarts ends automatic restarts (autorestart after an exit, retries
// from BACKOFF), as supervisord does once its mood leaves RUNNING (shutdown,
// reload). Explicit Start still works. It cannot be undone: a reload makes new Runners.
func (r *Runner) HoldRestarts(ctx context.Context) error {
	return r.call(ctx, holdCmd{}, false, nil)
}

// Signal sends sig to the process (not its group). ErrNotRunning unless STARTING/RUNNING/STOPPING.
func (r *Runner) Signal(sig syscall.Signal) error {
	return r.call(context.Background(), signalCmd{sig}, false, nil)
}

// WriteStdin writes p to the child's stdin. ErrNotRunning without a live child
// (or while stopping); ErrStdinClosed once the child closed its stdin. The real
// spawner's stdin queues what the pipe cannot take yet, so this does not block;
// ErrStdinFull when that queue is full.
func (r *Runner) WriteStdin(p []byte) error {
	in := r.stdin.Load()
	if in == nil {
		return ErrNotRunning
	}
	_, err := in.w.Write(p)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, os.ErrClosed):
		return ErrNotRunning
	case errors.Is(err, syscall.EPIPE):
		return ErrStdinClosed
	}
	return err
}
