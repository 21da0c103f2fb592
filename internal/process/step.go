package process

import (
	"errors"
	"fmt"
	"slices"
	"syscall"
	"time"

	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/events"
	"github.com/drover/drover/internal/sysnames"
)

// status is the mutable state of one process, owned by the Runner's drainer.
type status struct {
	state      State
	backoff    int // failed starts in a row (Supervisor's "tries")
	pid        int // 0 without a live child
	start      time.Time
	stop       time.Time
	exitStatus int // as getProcessInfo reports it: 0 when none, -1 for a signal
	spawnErr   string
	timerGen   int  // generation of the one armed timer; bumping it cancels
	noRestart  bool // supervisord is shutting down: no autorestart, no backoff retry
}

// event is an input of step.
type event interface{ String() string }

type (
	startCmd struct {
		wait bool
		// auto: supervisord's own start (autostart, a retry): it skips
		// startProcess's checks, so a command that cannot run fails as a
		// spawn error (spawnerr, BACKOFF, FATAL) instead of being refused.
		auto bool
	}
	stopCmd      struct{ shutdown bool } // shutdown: supervisord's stop_all (BACKOFF → FATAL)
	signalCmd    struct{ sig syscall.Signal }
	holdCmd      struct{} // stop automatic restarts for good
	spawned      struct{ pid int }
	spawnFailed  struct{ msg string }
	exited       struct{ status ExitStatus }
	signalFailed struct {
		act signalAct
		err string
	}
	timerFired struct{ gen int }
)

func (e startCmd) String() string     { return fmt.Sprintf("start(wait=%v, auto=%v)", e.wait, e.auto) }
func (e stopCmd) String() string      { return fmt.Sprintf("stop(shutdown=%v)", e.shutdown) }
func (e signalCmd) String() string    { return "signal(" + sysnames.SignalName(e.sig) + ")" }
func (e holdCmd) String() string      { return "hold" }
func (e spawned) String() string      { return fmt.Sprintf("spawned(%d)", e.pid) }
func (e spawnFailed) String() string  { return "spawnFailed(" + e.msg + ")" }
func (e exited) String() string       { return "exited(" + e.status.String() + ")" }
func (e signalFailed) String() string { return "signalFailed(" + e.err + ")" }
func (e timerFired) String() string   { return fmt.Sprintf("timer(%d)", e.gen) }

// action is an output of step, carried out by the Runner in order.
type action any

type (
	spawnAct  struct{}
	signalAct struct {
		sig   syscall.Signal
		group bool // to -pgid
		kill  bool // part of a stop (failure text differs)
	}
	armTimer struct {
		d   time.Duration
		gen int
	}
	publish struct{ ev events.ProcessState }
	logAct  struct {
		level config.LogLevel
		msg   string
	}
	// reply finishes the command being handled with err (nil: success).
	reply struct{ err error }
)

const exitedTooQuickly = "Exited too quickly (process log may have details)"

// restartPace is the least time between two spawns of an autorestart from
// EXITED. Supervisor restarts on its next loop iteration, which comes up to
// its 1 s poll timeout later (8 restarts in 4 s observed): a program that
// crashes after startsecs (or with startsecs=0) restarts forever without
// BACKOFF, but a few times a second, not in a hot loop.
const restartPace = 500 * time.Millisecond

// step is the whole policy of one process: no I/O, no clock reads.
// Results of actions (spawned, spawnFailed, signalFailed) come back as events.
func step(st status, cfg *config.Process, ev event, now time.Time) (status, []action) {
	s := &stepper{st: st, cfg: cfg, now: now}
	switch ev := ev.(type) {
	case startCmd:
		s.startCmd(ev)
	case stopCmd:
		s.stopCmd(ev)
	case signalCmd:
		s.signalCmd(ev)
	case holdCmd:
		s.st.noRestart = true
		s.do(reply{nil})
	case spawned:
		s.spawned(ev)
	case spawnFailed:
		s.st.spawnErr = ev.msg
		s.log(config.LevelInfo, "spawnerr: %s", ev.msg)
		s.enterBackoff()
	case exited:
		s.exited(ev)
	case signalFailed:
		s.signalFailed(ev)
	case timerFired:
		s.timerFired(ev)
	}
	return s.st, s.acts
}

type stepper struct {
	st   status
	cfg  *config.Process
	now  time.Time
	acts []action
}

func (s *stepper) do(a action) { s.acts = append(s.acts, a) }

func (s *stepper) log(level config.LogLevel, format string, args ...any) {
	s.do(logAct{level, fmt.Sprintf(format, args...)})
}

// change moves to state to and publishes the one event of this transition.
func (s *stepper) change(to State, expected bool) {
	ev := events.ProcessState{
		Process: s.cfg.Name, Group: s.cfg.Group,
		From: s.st.state.String(), To: to.String(),
	}
	switch to {
	case Starting, Backoff:
		ev.Tries = s.st.backoff
	case Running, Stopping, Stopped, Exited:
		ev.PID = s.st.pid
		ev.Expected = expected && to == Exited
	}
	s.st.state = to
	s.do(publish{ev})
}

// arm replaces the armed timer (if any) by one firing after d.
func (s *stepper) arm(d time.Duration) {
	s.st.timerGen++
	s.do(armTimer{d, s.st.timerGen})
}

func (s *stepper) disarm() { s.st.timerGen++ }

func (s *stepper) startCmd(ev startCmd) {
	switch s.st.state {
	case Starting, Running, Backoff:
		s.do(reply{ErrAlreadyStarted})
	case Unknown:
		s.do(reply{ErrUnknownState})
	case Stopping:
		// Supervisor's spawn refuses while a child lives; its wait then sees
		// a state other than STARTING/RUNNING.
		s.log(config.LevelWarn, "process '%s' already running", s.cfg.Name)
		var err error
		if ev.wait {
			err = ErrAbnormalTermination
		}
		s.do(reply{err})
	default:
		if s.st.state == Exited {
			s.disarm() // a paced autorestart
		}
		s.spawn()
	}
}

func (s *stepper) spawn() {
	s.st.start = s.now
	s.st.exitStatus = 0 // Supervisor's spawn forgets the last exit
	s.change(Starting, false)
	s.do(spawnAct{})
}

func (s *stepper) spawned(ev spawned) {
	s.st.pid = ev.pid
	s.st.spawnErr = ""
	s.log(config.LevelInfo, "spawned: '%s' with pid %d", s.cfg.Name, ev.pid)
	if s.cfg.StartSecs <= 0 {
		s.running()
		return
	}
	s.arm(s.cfg.StartSecs)
}

func (s *stepper) running() {
	s.disarm()
	s.st.backoff = 0
	s.change(Running, false)
	s.log(config.LevelInfo, "success: %s entered RUNNING state, process has stayed up for > than %d seconds (startsecs)",
		s.cfg.Name, int(s.cfg.StartSecs/time.Second))
}

// enterBackoff counts a failed start; past startretries it gives up.
func (s *stepper) enterBackoff() {
	s.st.backoff++
	s.change(Backoff, false)
	if s.st.backoff > s.cfg.StartRetries {
		s.disarm()
		s.st.backoff = 0
		s.change(Fatal, false)
		s.log(config.LevelInfo, "gave up: %s entered FATAL state, too many start retries too quickly", s.cfg.Name)
		return
	}
	s.arm(time.Duration(s.st.backoff) * time.Second)
}

func (s *stepper) timerFired(ev timerFired) {
	if ev.gen != s.st.timerGen {
		return // cancelled or replaced
	}
	switch s.st.state {
	case Starting:
		s.running()
	case Backoff:
		if !s.st.noRestart { // else it waits in BACKOFF for stop_all, as in Supervisor
			s.spawn()
		}
	case Exited: // autorestart after restartPace
		if !s.st.noRestart {
			s.spawn()
		}
	case Stopping:
		s.log(config.LevelWarn, "killing '%s' (%d) with SIGKILL", s.cfg.Name, s.st.pid)
		s.kill(syscall.SIGKILL, s.cfg.KillAsGroup || s.cfg.StopAsGroup)
	}
}

func (s *stepper) stopCmd(ev stopCmd) {
	switch s.st.state {
	case Backoff:
		s.log(config.LevelDebug, "Attempted to kill %s, which is in BACKOFF state.", s.cfg.Name)
		s.disarm()
		if ev.shutdown {
			s.st.backoff = 0
			s.change(Fatal, false)
		} else {
			s.change(Stopped, false)
		}
	case Starting, Running:
		s.kill(s.cfg.StopSignal, s.cfg.StopAsGroup)
	default:
		s.do(reply{ErrNotRunning})
	}
}

// kill sends sig as part of a stop and (re)arms the SIGKILL deadline.
func (s *stepper) kill(sig syscall.Signal, group bool) {
	asGroup := ""
	if group {
		asGroup = "process group "
	}
	s.log(config.LevelDebug, "killing %s (pid %d) %swith signal %s", s.cfg.Name, s.st.pid, asGroup, sysnames.SignalName(sig))
	s.arm(s.cfg.StopWait)
	if s.st.state != Stopping {
		s.change(Stopping, false)
	}
	s.do(signalAct{sig: sig, group: group, kill: true})
}

func (s *stepper) signalCmd(ev signalCmd) {
	if !s.st.state.IsSignallable() || s.st.pid == 0 {
		s.do(reply{ErrNotRunning})
		return
	}
	s.log(config.LevelDebug, "sending %s (pid %d) sig %s", s.cfg.Name, s.st.pid, sysnames.SignalName(ev.sig))
	s.do(signalAct{sig: ev.sig})
}

func (s *stepper) signalFailed(ev signalFailed) {
	what := "sending sig " + sysnames.SignalName(ev.act.sig)
	if ev.act.kill {
		what = "killing " + s.cfg.Name
	}
	msg := fmt.Sprintf("unknown problem %s (%d):%s", what, s.st.pid, ev.err)
	s.log(config.LevelCritical, "%s", msg)
	s.disarm()
	s.change(Unknown, false)
	s.do(reply{errors.New(msg)})
}

func (s *stepper) exited(ev exited) {
	es := ev.status.Code
	expected := ev.status.Signal == 0 && slices.Contains(s.cfg.ExitCodes, es)
	s.st.stop = s.now
	defer func() { s.st.pid = 0 }() // events of this exit still carry the pid
	s.disarm()
	switch {
	case s.st.state == Stopping:
		s.st.exitStatus = es
		s.change(Stopped, false)
		level := config.LevelWarn
		if expected {
			level = config.LevelInfo
		}
		s.log(level, "stopped: %s (%s)", s.cfg.Name, ev.status)
	case s.st.state == Starting && s.now.Sub(s.st.start) < s.cfg.StartSecs:
		s.st.exitStatus = 0
		s.st.spawnErr = exitedTooQuickly
		s.log(config.LevelWarn, "exited: %s (%s; not expected)", s.cfg.Name, ev.status)
		s.enterBackoff()
	case s.st.state == Starting || s.st.state == Running:
		if s.st.state == Starting { // startsecs elapsed, its timer not yet handled
			s.st.backoff = 0
			s.change(Running, false)
		}
		s.st.backoff = 0
		s.st.exitStatus = es
		if expected {
			s.change(Exited, true)
			s.log(config.LevelInfo, "exited: %s (%s; expected)", s.cfg.Name, ev.status)
		} else {
			s.st.spawnErr = fmt.Sprintf("Bad exit code %d", es)
			s.change(Exited, false)
			s.log(config.LevelWarn, "exited: %s (%s; not expected)", s.cfg.Name, ev.status)
		}
		restart := s.cfg.AutoRestart == config.RestartAlways || s.cfg.AutoRestart == config.RestartUnexpected && !expected
		if restart && !s.st.noRestart {
			s.st.pid = 0
			if pace := s.st.start.Add(restartPace).Sub(s.now); pace > 0 {
				s.arm(pace)
			} else {
				s.spawn()
			}
		}
	default: // UNKNOWN: the child is gone but nothing says what state to be in
		s.st.exitStatus = es
	}
}
