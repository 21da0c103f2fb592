package supervisor

import (
	"context"
	"slices"
	"sync/atomic"

	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/events"
	"github.com/drover/drover/internal/process"
)

// Exit statuses of a daemon that a container option ended
// (docs/containers.md). An essential program that exited passes on its own
// exit status, or 128+N when signal N killed it.
const (
	// ExitEssentialFatal: an essential program entered FATAL (it could not
	// be started, or kept exiting too quickly).
	ExitEssentialFatal = 126
	// ExitAllDoneFailed: exit_when_all_done, and some process's last end
	// was FATAL or an unexpected exit.
	ExitAllDoneFailed = 1
)

// ends follows the process state events for the container options:
// essential=true programs and [supervisord] exit_when_all_done. It is fed
// by a subscription made before the first spawn, so no end is missed.
type ends struct {
	s    *Supervisor
	sub  *events.Subscription
	code atomic.Int32 // the daemon's exit status once an end shut it down
	// restarting holds the processes whose last EXITED is followed by an
	// autorestart: their EXITED state is not an end. Only those: an entry
	// for every process that ever changed state (a STARTING is one) cost
	// every program a map entry, and kept removed ones.
	restarting map[*Process]bool
}

// ExitCode is the exit status the daemon should end with: 0, unless an
// essential program or exit_when_all_done ended it (see ExitEssentialFatal).
func (s *Supervisor) ExitCode() int { return int(s.ends.code.Load()) }

// watch handles state events until ctx ends.
func (e *ends) watch(ctx context.Context) {
	defer e.sub.Close()
	for {
		select {
		case <-ctx.Done():
			return
		case <-e.sub.Ready():
		}
		for _, ev := range e.sub.Next() {
			if st, ok := ev.(events.ProcessState); ok && e.s.Mood() == MoodRunning {
				e.handle(st)
			}
		}
	}
}

func (e *ends) handle(ev events.ProcessState) {
	procs, _, err := e.s.Lookup(Namespec(ev.Group, ev.Process))
	if err != nil || len(procs) != 1 {
		return
	}
	p := procs[0]
	pc := p.Config()
	if ev.To == "EXITED" && restarts(pc, ev.Expected) {
		e.restarting[p] = true
	} else {
		delete(e.restarting, p)
	}
	if pc.Essential && (ev.To == "FATAL" || ev.To == "EXITED" && !e.restarting[p]) {
		code, why := ExitEssentialFatal, "FATAL"
		if ev.To == "EXITED" {
			last := p.Info().LastExit
			code, why = last.Code, last.String()
			if last.Signal != 0 {
				code = 128 + int(last.Signal)
			}
		}
		e.s.Logf(config.LevelCritical, "essential program %s ended (%s): shutting down with exit status %d", p.Namespec, why, code)
		e.shutdown(code)
		return
	}
	if e.s.daemon.ExitWhenAllDone && isEnd(ev.To) {
		if code, done := e.allDone(); done {
			e.s.Logf(config.LevelInfo, "every program has ended (exit_when_all_done): shutting down with exit status %d", code)
			e.shutdown(code)
		}
	}
}

// restarts reports whether autorestart brings a process back after an exit.
func restarts(pc *config.Process, expected bool) bool {
	return pc.AutoRestart == config.RestartAlways || pc.AutoRestart == config.RestartUnexpected && !expected
}

// isEnd reports whether a process that enters state may have ended.
func isEnd(state string) bool {
	return state == "EXITED" || state == "FATAL" || state == "STOPPED"
}

// allDone reports whether no program process runs or will come back by
// itself (event listeners do not count), and with which status to exit. An
// autostart process not started yet (autostart still spawning, or held by a
// start gate) is still to run.
func (e *ends) allDone() (code int, done bool) {
	for _, g := range e.s.Groups() {
		if g.Config.Kind == config.KindEventListener {
			continue
		}
		for _, p := range g.Processes {
			info := p.Info()
			switch {
			case !info.State.IsStopped(),
				info.State == process.Exited && e.restarting[p],
				info.State == process.Stopped && info.Start.IsZero() && p.Config().Autostart:
				return 0, false
			}
			last := info.LastExit
			expected := last.Signal == 0 && slices.Contains(p.Config().ExitCodes, last.Code)
			if info.State == process.Fatal || info.State == process.Exited && !expected {
				code = ExitAllDoneFailed
			}
		}
	}
	return code, true
}

func (e *ends) shutdown(code int) {
	e.code.Store(int32(code))
	e.s.Shutdown()
}
