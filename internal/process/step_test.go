package process

import (
	"errors"
	"fmt"
	"reflect"
	"syscall"
	"testing"
	"time"

	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/events"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func testConfig() *config.Process {
	return &config.Process{
		Name: "w", Group: "g", Argv: []string{"/bin/true"},
		StartSecs: 3 * time.Second, StartRetries: 2,
		AutoRestart: config.RestartUnexpected, ExitCodes: []int{0},
		StopSignal: syscall.SIGTERM, StopWait: 10 * time.Second,
		UID: -1, GID: -1, Umask: -1,
	}
}

func pub(from, to State, tries, pid int, expected bool) publish {
	return publish{events.ProcessState{Process: "w", Group: "g", From: from.String(), To: to.String(),
		Tries: tries, PID: pid, Expected: expected}}
}

func info(format string, args ...any) logAct {
	return logAct{config.LevelInfo, fmt.Sprintf(format, args...)}
}
func warn(format string, args ...any) logAct {
	return logAct{config.LevelWarn, fmt.Sprintf(format, args...)}
}
func debug(format string, args ...any) logAct {
	return logAct{config.LevelDebug, fmt.Sprintf(format, args...)}
}

func TestStep(t *testing.T) {
	base := testConfig()
	with := func(f func(*config.Process)) *config.Process { c := *base; f(&c); return &c }
	startsecs0 := with(func(c *config.Process) { c.StartSecs = 0 })
	never := with(func(c *config.Process) { c.AutoRestart = config.RestartNever })
	always := with(func(c *config.Process) { c.AutoRestart = config.RestartAlways })
	group := with(func(c *config.Process) { c.StopAsGroup, c.KillAsGroup = true, true })
	sigterm := ExitStatus{Code: -1, Signal: syscall.SIGTERM}
	later := t0.Add(5 * time.Second)
	errBoom := "operation not permitted"

	tests := []struct {
		name     string
		cfg      *config.Process
		from     status
		ev       event
		now      time.Time
		want     status
		wantActs []action
	}{
		{"start from STOPPED", base, status{state: Stopped, timerGen: 4}, startCmd{}, t0,
			status{state: Starting, start: t0, timerGen: 4},
			[]action{pub(Stopped, Starting, 0, 0, false), spawnAct{}}},
		{"start from EXITED cancels a paced autorestart and forgets the exit status", base, status{state: Exited, exitStatus: 1}, startCmd{}, t0,
			status{state: Starting, start: t0, timerGen: 1},
			[]action{pub(Exited, Starting, 0, 0, false), spawnAct{}}},
		{"start from FATAL", base, status{state: Fatal, spawnErr: "x"}, startCmd{}, t0,
			status{state: Fatal, spawnErr: "x", start: t0}.with(Starting),
			[]action{pub(Fatal, Starting, 0, 0, false), spawnAct{}}},
		{"start from STOPPED keeps backoff", base, status{state: Stopped, backoff: 2}, startCmd{}, t0,
			status{state: Starting, backoff: 2, start: t0},
			[]action{pub(Stopped, Starting, 2, 0, false), spawnAct{}}},
		{"start while RUNNING", base, status{state: Running, pid: 7}, startCmd{}, t0,
			status{state: Running, pid: 7}, []action{reply{ErrAlreadyStarted}}},
		{"start while STARTING", base, status{state: Starting, pid: 7}, startCmd{}, t0,
			status{state: Starting, pid: 7}, []action{reply{ErrAlreadyStarted}}},
		{"start while BACKOFF", base, status{state: Backoff}, startCmd{}, t0,
			status{state: Backoff}, []action{reply{ErrAlreadyStarted}}},
		{"start while UNKNOWN", base, status{state: Unknown}, startCmd{}, t0,
			status{state: Unknown}, []action{reply{ErrUnknownState}}},
		{"start(wait) while STOPPING", base, status{state: Stopping, pid: 7}, startCmd{wait: true}, t0,
			status{state: Stopping, pid: 7},
			[]action{warn("process 'w' already running"), reply{ErrAbnormalTermination}}},
		{"start while STOPPING", base, status{state: Stopping, pid: 7}, startCmd{}, t0,
			status{state: Stopping, pid: 7},
			[]action{warn("process 'w' already running"), reply{nil}}},

		{"spawned arms startsecs", base, status{state: Starting, start: t0, spawnErr: "old"}, spawned{42}, t0,
			status{state: Starting, start: t0, pid: 42, timerGen: 1},
			[]action{info("spawned: 'w' with pid 42"), armTimer{3 * time.Second, 1}}},
		{"spawned startsecs=0 is RUNNING at once", startsecs0, status{state: Starting, backoff: 1, start: t0}, spawned{42}, t0,
			status{state: Running, start: t0, pid: 42, timerGen: 1},
			[]action{info("spawned: 'w' with pid 42"), pub(Starting, Running, 0, 42, false),
				info("success: w entered RUNNING state, process has stayed up for > than 0 seconds (startsecs)")}},
		{"startsecs elapsed", base, status{state: Starting, backoff: 2, pid: 42, timerGen: 1}, timerFired{1}, t0,
			status{state: Running, pid: 42, timerGen: 2},
			[]action{pub(Starting, Running, 0, 42, false),
				info("success: w entered RUNNING state, process has stayed up for > than 3 seconds (startsecs)")}},
		{"stale timer ignored", base, status{state: Starting, pid: 42, timerGen: 2}, timerFired{1}, t0,
			status{state: Starting, pid: 42, timerGen: 2}, nil},

		{"spawn failed → BACKOFF", base, status{state: Starting, start: t0}, spawnFailed{"can't find command 'x'"}, t0,
			status{state: Backoff, backoff: 1, start: t0, spawnErr: "can't find command 'x'", timerGen: 1},
			[]action{info("spawnerr: can't find command 'x'"), pub(Starting, Backoff, 1, 0, false), armTimer{time.Second, 1}}},
		{"exit too quickly → BACKOFF, delay = tries", base, status{state: Starting, backoff: 1, pid: 42, start: t0, timerGen: 3},
			exited{ExitStatus{Code: 0}}, t0.Add(time.Second),
			status{state: Backoff, backoff: 2, start: t0, stop: t0.Add(time.Second), spawnErr: exitedTooQuickly, timerGen: 5},
			[]action{warn("exited: w (exit status 0; not expected)"), pub(Starting, Backoff, 2, 0, false), armTimer{2 * time.Second, 5}}},
		{"last retry fails → FATAL", base, status{state: Starting, backoff: 2, pid: 42, start: t0},
			exited{ExitStatus{Code: 1}}, t0,
			status{state: Fatal, start: t0, stop: t0, spawnErr: exitedTooQuickly, timerGen: 2},
			[]action{warn("exited: w (exit status 1; not expected)"), pub(Starting, Backoff, 3, 0, false),
				pub(Backoff, Fatal, 0, 0, false),
				info("gave up: w entered FATAL state, too many start retries too quickly")}},
		{"backoff delay over → STARTING", base, status{state: Backoff, backoff: 1, timerGen: 1}, timerFired{1}, later,
			status{state: Starting, backoff: 1, start: later, timerGen: 1},
			[]action{pub(Backoff, Starting, 1, 0, false), spawnAct{}}},

		{"expected exit from RUNNING, autorestart unexpected", base, status{state: Running, pid: 42, backoff: 1},
			exited{ExitStatus{Code: 0}}, later,
			status{state: Exited, stop: later, timerGen: 1},
			[]action{pub(Running, Exited, 0, 42, true), info("exited: w (exit status 0; expected)")}},
		{"unexpected exit restarts at once", base, status{state: Running, pid: 42, start: t0},
			exited{ExitStatus{Code: 2}}, later,
			status{state: Starting, start: later, stop: later, spawnErr: "Bad exit code 2", timerGen: 1},
			[]action{pub(Running, Exited, 0, 42, false), warn("exited: w (exit status 2; not expected)"),
				pub(Exited, Starting, 0, 0, false), spawnAct{}}},
		{"killed by signal is unexpected", never, status{state: Running, pid: 42},
			exited{sigterm}, later,
			status{state: Exited, stop: later, exitStatus: -1, spawnErr: "Bad exit code -1", timerGen: 1},
			[]action{pub(Running, Exited, 0, 42, false), warn("exited: w (terminated by SIGTERM; not expected)")}},
		{"no autorestart while shutting down", base, status{state: Running, pid: 42, noRestart: true},
			exited{ExitStatus{Code: 1}}, later,
			status{state: Exited, stop: later, exitStatus: 1, spawnErr: "Bad exit code 1", timerGen: 1, noRestart: true},
			[]action{pub(Running, Exited, 0, 42, false), warn("exited: w (exit status 1; not expected)")}},
		{"no backoff retry while shutting down", base, status{state: Backoff, backoff: 1, timerGen: 1, noRestart: true}, timerFired{1}, later,
			status{state: Backoff, backoff: 1, timerGen: 1, noRestart: true}, nil},
		{"hold", base, status{state: Running, pid: 42}, holdCmd{}, t0,
			status{state: Running, pid: 42, noRestart: true}, []action{reply{nil}}},
		{"autorestart false", never, status{state: Running, pid: 42},
			exited{ExitStatus{Code: 1}}, later,
			status{state: Exited, stop: later, exitStatus: 1, spawnErr: "Bad exit code 1", timerGen: 1},
			[]action{pub(Running, Exited, 0, 42, false), warn("exited: w (exit status 1; not expected)")}},
		{"autorestart true after expected exit", always, status{state: Running, pid: 42},
			exited{ExitStatus{Code: 0}}, later,
			status{state: Starting, start: later, stop: later, timerGen: 1},
			[]action{pub(Running, Exited, 0, 42, true), info("exited: w (exit status 0; expected)"),
				pub(Exited, Starting, 0, 0, false), spawnAct{}}},
		{"exit after startsecs before its timer: RUNNING then EXITED", never, status{state: Starting, pid: 42, start: t0, backoff: 1},
			exited{ExitStatus{Code: 0}}, t0.Add(3 * time.Second),
			status{state: Exited, start: t0, stop: t0.Add(3 * time.Second), timerGen: 1},
			[]action{pub(Starting, Running, 0, 42, false), pub(Running, Exited, 0, 42, true),
				info("exited: w (exit status 0; expected)")}},
		{"startsecs=0 exit is EXITED, never BACKOFF; restart paced", startsecs0, status{state: Running, pid: 42, start: t0},
			exited{ExitStatus{Code: 1}}, t0.Add(300 * time.Millisecond),
			status{state: Exited, start: t0, stop: t0.Add(300 * time.Millisecond), exitStatus: 1, spawnErr: "Bad exit code 1", timerGen: 2},
			[]action{pub(Running, Exited, 0, 42, false), warn("exited: w (exit status 1; not expected)"),
				armTimer{200 * time.Millisecond, 2}}},
		{"paced autorestart → STARTING", startsecs0, status{state: Exited, start: t0, exitStatus: 1, timerGen: 2}, timerFired{2}, t0.Add(time.Second),
			status{state: Starting, start: t0.Add(time.Second), timerGen: 2},
			[]action{pub(Exited, Starting, 0, 0, false), spawnAct{}}},
		{"no paced autorestart while shutting down", startsecs0, status{state: Exited, timerGen: 2, noRestart: true}, timerFired{2}, t0,
			status{state: Exited, timerGen: 2, noRestart: true}, nil},

		{"stop RUNNING", base, status{state: Running, pid: 42}, stopCmd{}, t0,
			status{state: Stopping, pid: 42, timerGen: 1},
			[]action{debug("killing w (pid 42) with signal SIGTERM"), armTimer{10 * time.Second, 1},
				pub(Running, Stopping, 0, 42, false), signalAct{sig: syscall.SIGTERM, kill: true}}},
		{"stop STARTING as group", group, status{state: Starting, pid: 42}, stopCmd{}, t0,
			status{state: Stopping, pid: 42, timerGen: 1},
			[]action{debug("killing w (pid 42) process group with signal SIGTERM"), armTimer{10 * time.Second, 1},
				pub(Starting, Stopping, 0, 42, false), signalAct{sig: syscall.SIGTERM, group: true, kill: true}}},
		{"stopwaitsecs elapsed → SIGKILL, re-armed", base, status{state: Stopping, pid: 42, timerGen: 1}, timerFired{1}, t0,
			status{state: Stopping, pid: 42, timerGen: 2},
			[]action{warn("killing 'w' (42) with SIGKILL"), debug("killing w (pid 42) with signal SIGKILL"),
				armTimer{10 * time.Second, 2}, signalAct{sig: syscall.SIGKILL, kill: true}}},
		{"SIGKILL to group with killasgroup", group, status{state: Stopping, pid: 42, timerGen: 1}, timerFired{1}, t0,
			status{state: Stopping, pid: 42, timerGen: 2},
			[]action{warn("killing 'w' (42) with SIGKILL"), debug("killing w (pid 42) process group with signal SIGKILL"),
				armTimer{10 * time.Second, 2}, signalAct{sig: syscall.SIGKILL, group: true, kill: true}}},
		{"exit while STOPPING, expected", base, status{state: Stopping, pid: 42, timerGen: 1}, exited{ExitStatus{Code: 0}}, later,
			status{state: Stopped, stop: later, timerGen: 2},
			[]action{pub(Stopping, Stopped, 0, 42, false), info("stopped: w (exit status 0)")}},
		{"exit while STOPPING, signal", always, status{state: Stopping, pid: 42, timerGen: 1}, exited{sigterm}, later,
			status{state: Stopped, stop: later, exitStatus: -1, timerGen: 2},
			[]action{pub(Stopping, Stopped, 0, 42, false), warn("stopped: w (terminated by SIGTERM)")}},
		{"stop BACKOFF → STOPPED, backoff kept", base, status{state: Backoff, backoff: 2, timerGen: 1}, stopCmd{}, t0,
			status{state: Stopped, backoff: 2, timerGen: 2},
			[]action{debug("Attempted to kill w, which is in BACKOFF state."), pub(Backoff, Stopped, 0, 0, false)}},
		{"shutdown BACKOFF → FATAL", base, status{state: Backoff, backoff: 2, timerGen: 1}, stopCmd{shutdown: true}, t0,
			status{state: Fatal, timerGen: 2},
			[]action{debug("Attempted to kill w, which is in BACKOFF state."), pub(Backoff, Fatal, 0, 0, false)}},
		{"stop STOPPED", base, status{state: Stopped}, stopCmd{}, t0, status{state: Stopped}, []action{reply{ErrNotRunning}}},
		{"stop STOPPING", base, status{state: Stopping, pid: 4}, stopCmd{}, t0, status{state: Stopping, pid: 4}, []action{reply{ErrNotRunning}}},
		{"stop EXITED", base, status{state: Exited}, stopCmd{}, t0, status{state: Exited}, []action{reply{ErrNotRunning}}},

		{"signal RUNNING", base, status{state: Running, pid: 42}, signalCmd{syscall.SIGHUP}, t0,
			status{state: Running, pid: 42},
			[]action{debug("sending w (pid 42) sig SIGHUP"), signalAct{sig: syscall.SIGHUP}}},
		{"signal BACKOFF", base, status{state: Backoff}, signalCmd{syscall.SIGHUP}, t0,
			status{state: Backoff}, []action{reply{ErrNotRunning}}},
		{"signal error → UNKNOWN", base, status{state: Running, pid: 42, timerGen: 1},
			signalFailed{signalAct{sig: syscall.SIGHUP}, errBoom}, t0,
			status{state: Unknown, pid: 42, timerGen: 2},
			[]action{logAct{config.LevelCritical, "unknown problem sending sig SIGHUP (42):" + errBoom},
				pub(Running, Unknown, 0, 0, false), reply{errors.New("unknown problem sending sig SIGHUP (42):" + errBoom)}}},
		{"kill error → UNKNOWN", base, status{state: Stopping, pid: 42, timerGen: 1},
			signalFailed{signalAct{sig: syscall.SIGTERM, kill: true}, errBoom}, t0,
			status{state: Unknown, pid: 42, timerGen: 2},
			[]action{logAct{config.LevelCritical, "unknown problem killing w (42):" + errBoom},
				pub(Stopping, Unknown, 0, 0, false), reply{errors.New("unknown problem killing w (42):" + errBoom)}}},
		{"exit while UNKNOWN", base, status{state: Unknown, pid: 42}, exited{ExitStatus{Code: 3}}, later,
			status{state: Unknown, stop: later, exitStatus: 3, timerGen: 1}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, acts := step(tt.from, tt.cfg, tt.ev, tt.now)
			if got != tt.want || !reflect.DeepEqual(acts, tt.wantActs) {
				t.Errorf("step(%+v, %v) =\n  %+v\n  %#v\nwant\n  %+v\n  %#v", tt.from, tt.ev, got, acts, tt.want, tt.wantActs)
			}
		})
	}
}

// with returns st in state s (for readable table rows).
func (st status) with(s State) status { st.state = s; return st }
