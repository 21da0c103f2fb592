package process

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"time"

	"golang.org/x/sys/unix"

	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/guard"
	"github.com/drover/drover/internal/reaper"
)

// This file is the process engine's side of an in-place upgrade (package
// handover): a Runner frozen with its child's pipes made inheritable
// across execve, and a Runner that adopts a child it did not fork.

// Snapshot is a frozen Runner: its state-machine status, the deadline of
// its armed timer, and the descriptors of its live child, which survive
// execve. Field names are part of the handover format: renaming one is a
// format change.
type Snapshot struct {
	State      State      `json:"state"`
	Backoff    int        `json:"backoff"`
	PID        int        `json:"pid"` // 0 without a live child
	Start      time.Time  `json:"start"`
	Stop       time.Time  `json:"stop"`
	ExitStatus int        `json:"exit_status"`
	SpawnErr   string     `json:"spawn_err"`
	NoRestart  bool       `json:"no_restart"`
	TimerGen   int        `json:"timer_gen"`
	Timer      *time.Time `json:"timer,omitempty"` // deadline of the armed timer
	LastExit   ExitStatus `json:"last_exit"`
	// The parent ends of the child's pipes, -1 for none (closed at EOF,
	// redirect_stderr, a FastCGI socket as stdin).
	StdinFD  int `json:"stdin_fd"`
	StdoutFD int `json:"stdout_fd"`
	StderrFD int `json:"stderr_fd"`
	// StdinPending are the bytes sendProcessStdin queued that the child
	// had not read yet: the new image writes them first.
	StdinPending []byte `json:"stdin_pending,omitempty"`
}

// freezeCmd asks Run for a Snapshot, then to wait until thaw is closed;
// Run closes resumed once it has undone the freeze.
type freezeCmd struct {
	snap    chan<- Snapshot
	thaw    <-chan struct{}
	resumed chan struct{}
}

func (freezeCmd) String() string { return "freeze" }

// ErrNotFreezable: the child is not one the real spawner started (a test
// fake), so it has no descriptors to hand over.
var ErrNotFreezable = errors.New("child not started by the fork/exec spawner")

// Freeze stops the Runner where it is: no command, exit or timer is
// handled, its child's output pipes leave their pollers between two reads
// (every byte read is written; the rest waits in the pipe), and the pipe ends are
// made inheritable across execve. It returns the Snapshot; the Runner
// stays frozen until thaw is closed, which undoes all of it, and closes
// resumed once that is done.
func (r *Runner) Freeze(thaw <-chan struct{}) (_ Snapshot, resumed <-chan struct{}, _ error) {
	snap := make(chan Snapshot, 1)
	f := freezeCmd{snap: snap, thaw: thaw, resumed: make(chan struct{})}
	c := command{ev: f, reply: make(chan result, 1)}
	drain, ok := r.post(c)
	if !ok {
		return Snapshot{}, nil, ErrRunnerDone
	}
	if drain {
		r.drain(&c)
	}
	res := <-c.reply
	if res.err != nil {
		return Snapshot{}, nil, res.err
	}
	return <-snap, f.resumed, nil
}

// freeze handles a freezeCmd: it answers with the Snapshot, then leaves
// the Runner frozen (drain stops) until a goroutine sees f.thaw closed.
func (r *Runner) freeze(f freezeCmd, reply chan result) {
	// An exit already reaped is handled first: its pid must not be handed over.
	var exits []ExitStatus
	r.mu.Lock()
	r.mailbox = slices.DeleteFunc(r.mailbox, func(in input) bool {
		e, ok := in.(exitInput)
		if ok {
			exits = append(exits, e.es)
		}
		return ok
	})
	r.mu.Unlock()
	for _, es := range exits {
		r.exited(es)
	}
	ch, real := r.child.(*child)
	if r.child != nil && !real {
		reply <- result{err: ErrNotFreezable}
		return
	}
	s := Snapshot{
		State: r.st.state, Backoff: r.st.backoff, PID: r.st.pid, Start: r.st.start, Stop: r.st.stop,
		ExitStatus: r.st.exitStatus, SpawnErr: r.st.spawnErr, NoRestart: r.st.noRestart,
		TimerGen: r.st.timerGen, LastExit: r.lastExit, StdinFD: -1, StdoutFD: -1, StderrFD: -1,
	}
	if r.timerArmed && r.timerGen == r.st.timerGen {
		d := r.timerDeadline
		s.Timer = &d
	}
	if ch != nil {
		if err := ch.handOver(&s); err != nil {
			reply <- result{err: err}
			return
		}
	}
	r.mu.Lock()
	r.frozen = true
	r.mu.Unlock()
	reply <- result{}
	f.snap <- s
	guard.Go("thaw of program "+r.cfg.Name, func() {
		<-f.thaw
		if ch != nil {
			ch.takeBack()
		}
		close(f.resumed)
		r.mu.Lock()
		r.frozen = false
		drain := len(r.mailbox) > 0 && !r.draining
		r.draining = r.draining || drain
		r.mu.Unlock()
		if drain {
			r.drain(nil)
		}
	})
}

// handOver stops the stdin queue's flush, takes the output pipes from the
// pollers (park: every byte read is written out, the rest stays in the
// pipe for the next image), and records in s the bytes queued for stdin
// and the inheritable pipe ends. If it fails, nothing was changed.
func (c *child) handOver(s *Snapshot) error {
	s.StdinFD = -1
	if c.stdin.piped {
		pending, err := c.stdin.hold()
		if err != nil {
			return err
		}
		s.StdinPending = pending
		c.stdin.withFD(func(fd int) { s.StdinFD = inheritable(fd) })
	}
	fds := [2]*int{&s.StdoutFD, &s.StderrFD}
	for i, pp := range c.outputs {
		if pp != nil && pp.park() {
			*fds[i] = inheritable(pp.fd)
		}
	}
	return nil
}

// takeBack undoes handOver after an upgrade that did not happen.
func (c *child) takeBack() {
	if c.stdin.piped {
		c.stdin.withFD(func(fd int) { unix.CloseOnExec(fd) })
		c.stdin.resume()
	}
	for _, pp := range c.outputs {
		if pp != nil {
			pp.unpark()
		}
	}
}

// inheritable clears close-on-exec on fd and returns it; -1 if that failed.
func inheritable(fd int) int {
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETFD, 0); err != nil {
		return -1
	}
	return fd
}

// withFD runs do with f's descriptor without putting f in blocking mode
// (as Fd would); not at all once f is closed.
func withFD(f *os.File, do func(fd int)) {
	rc, err := f.SyscallConn()
	if err != nil {
		return
	}
	rc.Control(func(fd uintptr) { do(int(fd)) })
}

// Adopt makes the Runner start from s instead of STOPPED: the status, the timer
// re-armed for what was left of it, and the live child (s.PID) taken over
// with its pipes. Call it before Begin. The caller has marked the pid owned
// (reaper.Adopt) before any orphan reaping could take it. Info reports the
// status of s at once, before the Runner has begun (a roll the upgrade
// handed over reads it as it resumes).
func (r *Runner) Adopt(s Snapshot) {
	r.adopted = &s
	r.restore(s)
	r.storeInfo()
}

// restore sets the status of the state machine to that of s.
func (r *Runner) restore(s Snapshot) {
	r.st = status{state: s.State, backoff: s.Backoff, pid: s.PID, start: s.Start, stop: s.Stop,
		exitStatus: s.ExitStatus, spawnErr: s.SpawnErr, timerGen: s.TimerGen, noRestart: s.NoRestart}
	r.lastExit = s.LastExit
}

// adopt is the first input of an adopted Runner.
func (r *Runner) adopt(s Snapshot) {
	r.restore(s)
	if s.Timer != nil {
		r.arm(armTimer{d: max(0, time.Until(*s.Timer)), gen: s.TimerGen})
	}
	if s.PID > 0 {
		cmd := newCommand(r.cfg, &r.opts)
		outs := r.childWriters(cmd)
		c, err := adoptChild(s, cmd)
		if err != nil {
			// Gone before the take-over, reaped by the previous image: its
			// exit status is lost, the state machine sees an exit.
			r.logf(config.LevelWarn, "%s (pid %d) could not be taken over: %v", r.cfg.Name, s.PID, err)
			reaper.Done(s.PID)
			r.handle(exited{ExitStatus{Code: -1}})
		} else {
			r.watch(c, outs)
			r.release = r.adoptStdin()
		}
	}
	r.storeInfo()
}

// adoptStdin acquires for an adopted child the Options.ChildStdin file it
// already has as fd 0 (a FastCGI socket the upgrade handed over), so the
// file is given back when the child is gone; nil without one.
func (r *Runner) adoptStdin() func() {
	if r.opts.ChildStdin == nil {
		return nil
	}
	_, release, err := r.opts.ChildStdin()
	if err != nil {
		r.logf(config.LevelWarn, "%s (pid %d): %v", r.cfg.Name, r.st.pid, err)
		return nil
	}
	return release
}

// adoptChild takes over the child of s: a fresh pidfd (the old one was
// close-on-exec) and the inherited pipe ends, whose pumps start now.
func adoptChild(s Snapshot, cmd *Command) (*child, error) {
	pidfd, err := unix.PidfdOpen(s.PID, 0)
	if err != nil {
		return nil, fmt.Errorf("pidfd_open: %w", err)
	}
	// Only a child of this process can be waited for: a pid reused by a
	// stranger is refused here.
	var info unix.Siginfo
	if err := unix.Waitid(unix.P_PIDFD, pidfd, &info, unix.WEXITED|unix.WNOHANG|unix.WNOWAIT, nil); err != nil {
		unix.Close(pidfd)
		return nil, fmt.Errorf("not a child of this process: %w", err)
	}
	ch := &child{pid: s.PID, pidfd: int32(pidfd)}
	ch.stdin = newStdinWriter(inheritedStdin(s.StdinFD))
	if len(s.StdinPending) > 0 {
		ch.stdin.Write(s.StdinPending) // the first write to an empty queue is taken whole; without a pipe it fails, as the old image's would have
	}
	ch.pumpOutputs(cmd.Name, [2]pipeSink{
		{inheritedOutput(s.StdoutFD), cmd.Stdout},
		{inheritedOutput(s.StderrFD), cmd.Stderr},
	})
	return ch, nil
}

// inheritedOutput makes an output pipe's end handed over by the previous
// image close-on-exec again and non-blocking for the output pollers; -1
// stays -1.
func inheritedOutput(fd int) int {
	if fd >= 0 {
		unix.CloseOnExec(fd)
		unix.SetNonblock(fd, true)
	}
	return fd
}

// inheritedStdin makes the stdin pipe's end handed over by the previous
// image close-on-exec again, for a stdinWriter (which makes it
// non-blocking at its first write); -1 stays -1.
func inheritedStdin(fd int) int {
	if fd >= 0 {
		unix.CloseOnExec(fd)
	}
	return fd
}
