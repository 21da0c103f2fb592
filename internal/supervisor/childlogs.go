package supervisor

import (
	"fmt"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/guard"
	"github.com/drover/drover/internal/logs"
)

// childLog is one open log file and the number of channels writing to it:
// numprocs workers commonly share one stdout_logfile, and one file must have
// one writer so that rotation stays sane.
type childLog struct {
	log   *logs.ChildLog
	users int
}

// acquireLog returns the log of one output channel of pc (nil for NONE),
// naming the AUTO file (autoFiles creates it) or opening the shared
// instance. Callers hold opMu, so no other acquire races for the same path.
func (s *Supervisor) acquireLog(pc *config.Process, channel string, lc config.ChildLog) (*logs.ChildLog, error) {
	path := lc.Path
	switch lc.Kind {
	case config.LogNone:
		return nil, nil
	case config.LogAuto:
		if p := s.adoptedLog(pc, channel); p != "" {
			path = p
			break
		}
		// The file comes later: a childlogdir that cannot take it fails
		// now, as creating it here did (a full disk is reported then).
		dir := s.daemon.ChildLogDir
		if err := unix.Faccessat(unix.AT_FDCWD, dir, unix.W_OK|unix.X_OK, unix.AT_EACCESS); err != nil {
			return nil, fmt.Errorf("create %s log of %s: childlogdir %s: %w", channel, pc.Name, dir, err)
		}
		path = logs.AutoName(dir, pc.Name, channel, s.daemon.Identifier)
	}
	s.logsMu.Lock()
	cl := s.logs[path]
	if cl != nil {
		cl.users++
	}
	s.logsMu.Unlock()
	if cl != nil {
		return cl.log, nil
	}
	// A file named by path appears at the first spawn, as with
	// Supervisor; an AUTO file soon after the start (see
	// logs.CreateAuto).
	creation := logs.CreateAtSpawn
	if lc.Kind == config.LogAuto {
		creation = logs.CreateAuto
	}
	l, err := logs.OpenChild(logs.ChildConfig{
		Path:      path,
		MaxBytes:  lc.MaxBytes,
		Backups:   lc.Backups,
		StripANSI: s.daemon.StripANSI,
		Creation:  creation,
		OnError:   s.logError,
		Idle:      s.idleLogs,
	})
	if err != nil {
		return nil, fmt.Errorf("open %s log of %s: %w", channel, pc.Name, err)
	}
	s.logsMu.Lock()
	s.logs[path] = &childLog{log: l, users: 1}
	s.logsMu.Unlock()
	if creation == logs.CreateAuto {
		s.autoFiles.add(l)
	}
	return l, nil
}

// autoFiles creates the files of new AUTO logs (ChildLog.Ensure) in the
// background, off the spawn path: at start once Run has asked the
// autostart processes to start, later (a group or a worker added) at
// once. On ext4 creating a file can cost a millisecond of kernel time:
// the 1,000 files of 500 programs, created before the first spawn, made
// their start-up twice as long. A log closed meanwhile is skipped; one
// written to or read first was created then.
type autoFiles struct {
	mu      sync.Mutex
	pending []*logs.ChildLog
	started bool // Run has issued the autostart spawns
	busy    bool // a creator is at work on pending
}

func (a *autoFiles) add(l *logs.ChildLog) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.pending = append(a.pending, l)
	a.kickLocked()
}

// start lets the files be created, once the first spawns are under way.
func (a *autoFiles) start() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.started = true
	a.kickLocked()
}

// kickLocked starts a creator unless one is at work or it is too early.
func (a *autoFiles) kickLocked() {
	if a.started && !a.busy && len(a.pending) > 0 {
		a.busy = true
		guard.Go("AUTO log creator", a.create)
	}
}

// create creates the pending files, and those added meanwhile. It runs
// beside the spawns under way: doing it from a thread at nice 10 made no
// difference to tell (500 programs, 8 interleaved runs: all children
// exist after 0.59–0.72 s either way, all files 1.5–1.7 s).
func (a *autoFiles) create() {
	for {
		a.mu.Lock()
		batch := a.pending
		a.pending = nil
		a.busy = len(batch) > 0
		a.mu.Unlock()
		if len(batch) == 0 {
			return
		}
		for _, l := range batch {
			l.Ensure()
		}
	}
}

// releaseLog drops one user of l and closes it when it was the last.
func (s *Supervisor) releaseLog(l *logs.ChildLog) {
	if l == nil {
		return
	}
	s.logsMu.Lock()
	cl := s.logs[l.Path()]
	last := cl != nil && cl.log == l && cl.users == 1
	switch {
	case last:
		delete(s.logs, l.Path())
	case cl != nil && cl.log == l:
		cl.users--
	}
	s.logsMu.Unlock()
	if last {
		if err := l.Close(); err != nil {
			s.Logf(config.LevelWarn, "close log %s: %v", l.Path(), err)
		}
	}
}

// ReopenLogs reopens every child log (SIGUSR2).
func (s *Supervisor) ReopenLogs() {
	s.logsMu.Lock()
	open := make([]*logs.ChildLog, 0, len(s.logs))
	for _, cl := range s.logs {
		open = append(open, cl.log)
	}
	s.logsMu.Unlock()
	for _, l := range open {
		if err := l.Reopen(); err != nil {
			s.Logf(config.LevelWarn, "reopen log %s: %v", l.Path(), err)
		}
	}
}
