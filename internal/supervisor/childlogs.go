package supervisor

import (
	"fmt"

	"github.com/drover/drover/internal/config"
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
// creating the AUTO file or opening the shared instance. Callers hold opMu,
// so no other acquire races for the same path.
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
		p, err := logs.AutoPath(s.daemon.ChildLogDir, pc.Name, channel, s.daemon.Identifier)
		if err != nil {
			return nil, fmt.Errorf("create %s log of %s: %w", channel, pc.Name, err)
		}
		path = p
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
	l, err := logs.OpenChild(logs.ChildConfig{
		Path:      path,
		MaxBytes:  lc.MaxBytes,
		Backups:   lc.Backups,
		StripANSI: s.daemon.StripANSI,
		// A file named by path appears at the first spawn (an AUTO file
		// exists from the start, empty), as with Supervisor.
		Deferred: lc.Kind == config.LogFile,
		OnError:  s.logError,
		Idle:     s.idleLogs,
	})
	if err != nil {
		return nil, fmt.Errorf("open %s log of %s: %w", channel, pc.Name, err)
	}
	s.logsMu.Lock()
	s.logs[path] = &childLog{log: l, users: 1}
	s.logsMu.Unlock()
	return l, nil
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
