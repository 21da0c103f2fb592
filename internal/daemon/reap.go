package daemon

import (
	"os"
	"os/signal"
	"syscall"

	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/logs"
	"github.com/drover/drover/internal/process"
	"github.com/drover/drover/internal/reaper"
)

// reapsOrphans reports whether orphans can be re-parented to the daemon:
// as PID 1 of its namespace (a container's init), or as a child subreaper
// ([supervisord] subreaper=true). Otherwise every child is a supervised
// one, and its runner reaps it.
func reapsOrphans(sd *config.Supervisord) bool {
	return os.Getpid() == 1 || sd.Subreaper
}

// startReaper makes the daemon a subreaper when asked, then reaps the
// orphans re-parented to it at each SIGCHLD (and once at once, for those
// that exited between two lives of a reload), logging each as Supervisor
// does: "reaped unknown pid N (exit status S)". stop ends it.
func startReaper(sd *config.Supervisord, ml *logs.MainLog) (stop func()) {
	if !reapsOrphans(sd) {
		return func() {}
	}
	if os.Getpid() != 1 {
		if err := reaper.BecomeSubreaper(); err != nil {
			ml.Logf(config.LevelCritical, "could not become a child subreaper: %v", err)
		}
	}
	// One pending signal is enough: a pass reaps every orphan exited by then.
	sigchld := make(chan os.Signal, 1)
	signal.Notify(sigchld, syscall.SIGCHLD)
	quit, done := make(chan struct{}), make(chan struct{})
	report := func(pid int, ws syscall.WaitStatus) {
		ml.Logf(config.LevelInfo, "reaped unknown pid %d (%s)", pid, process.ExitStatusOf(ws))
	}
	go func() {
		defer close(done)
		for {
			reaper.Reap(report)
			select {
			case <-sigchld:
			case <-quit:
				return
			}
		}
	}()
	return func() {
		signal.Stop(sigchld)
		close(quit)
		<-done
	}
}
