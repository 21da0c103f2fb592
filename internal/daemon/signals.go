package daemon

import (
	"os"
	"syscall"

	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/guard"
	"github.com/drover/drover/internal/logs"
	"github.com/drover/drover/internal/supervisor"
	"github.com/drover/drover/internal/sysnames"
)

// handledSignals are the signals supervisord acts on (§8.1), plus SIGPIPE,
// which Python ignores: a closed stdout (supervisord -n | head) must not
// kill the daemon and orphan its programs. Catching it, unlike ignoring it,
// leaves the programs' own SIGPIPE at its default. SIGCHLD is the process
// engine's business; every other signal keeps its default action.
var handledSignals = []os.Signal{syscall.SIGTERM, syscall.SIGINT, syscall.SIGQUIT, syscall.SIGHUP, syscall.SIGUSR2, syscall.SIGPIPE, upgradeSignal}

// upgradeSignal asks for an in-place upgrade (docs/upgrade.md), for
// package scripts that have the pidfile but no client. Supervisor does not
// use SIGUSR1 (to it, the signal's default action, exit).
const upgradeSignal = syscall.SIGUSR1

// handleSignal turns a signal into a supervisor request, with Supervisor's
// log lines: TERM/INT/QUIT shut down, HUP reloads (not during a shutdown),
// USR2 reopens the main log and every child log; PIPE does nothing.
func (d *daemon) handleSignal(sig syscall.Signal, sup *supervisor.Supervisor, ml *logs.MainLog, up *upgrader) {
	name := sysnames.SignalName(sig)
	switch sig {
	case syscall.SIGTERM, syscall.SIGINT, syscall.SIGQUIT:
		ml.Logf(config.LevelWarn, "received %s indicating exit request", name)
		d.notify.notify(notifyStopping)
		sup.Shutdown()
	case syscall.SIGHUP:
		if sup.Mood() == supervisor.MoodShutdown {
			ml.Logf(config.LevelWarn, "ignored %s indicating restart request (shutdown in progress)", name)
			return
		}
		ml.Logf(config.LevelWarn, "received %s indicating restart request", name)
		// An error is logged and the daemon runs on; a reload keeping the
		// unchanged programs (reload_keeps_unchanged) is not a restart.
		if sup.Restart() == nil && sup.Mood() == supervisor.MoodRestarting {
			d.notify.notify(notifyReloading)
		}
	case upgradeSignal:
		ml.Logf(config.LevelInfo, "received %s indicating upgrade request", name)
		guard.Go("upgrade request", func() { up.Start() }) // the outcome is in the main log
	case syscall.SIGUSR2:
		ml.Logf(config.LevelInfo, "received %s indicating log reopen request", name)
		ml.Logf(config.LevelInfo, "supervisord logreopen")
		ml.Reopen()
		sup.ReopenLogs()
	}
}
