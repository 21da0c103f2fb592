package proctree

import (
	"errors"
	"sync"
	"time"
)

// Sampler reads the process tree of one process, the daemon, and shares
// each reading between its readers (the metrics scrapes and the dashboard)
// for up to maxAge. It keeps the stat files of the tree's processes open
// between readings (see scanner), so Close it when done.
type Sampler struct {
	maxAge time.Duration

	mu     sync.Mutex // held across a read, so concurrent readers share it
	scan   *scanner   // guarded by mu
	at     time.Time  // when trees was read; zero before the first read; guarded by mu
	trees  Trees      // guarded by mu
	closed bool       // guarded by mu
}

// errClosed is the error of a reading asked of a closed Sampler.
var errClosed = errors.New("read process table: sampler closed")

// NewSampler returns a Sampler of root and its descendants as procfs (""
// for /proc) shows them, whose readings serve for maxAge (0: every call
// reads).
func NewSampler(procfs string, root int, maxAge time.Duration) *Sampler {
	if procfs == "" {
		procfs = "/proc"
	}
	return &Sampler{maxAge: maxAge, scan: newScanner(procfs, root)}
}

// Trees returns the process trees read at most maxAge ago, reading them
// again when older, and when they were read. On a failed read it returns
// the error with the last good reading (empty before the first). Only
// root and its descendants are in the trees. A nil Sampler reads nothing.
func (s *Sampler) Trees() (Trees, time.Time, error) {
	if s == nil {
		return Table(nil).Trees(), time.Time{}, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.at.IsZero() && time.Since(s.at) < s.maxAge {
		return s.trees, s.at, nil
	}
	var t Table
	err := errClosed
	if !s.closed {
		t, err = s.scan.read()
	}
	if err != nil {
		if s.at.IsZero() {
			return Table(nil).Trees(), time.Time{}, err
		}
		return s.trees, s.at, err
	}
	s.trees, s.at = t.Trees(), time.Now()
	return s.trees, s.at, nil
}

// Close closes the files the Sampler keeps open; later readings fail.
func (s *Sampler) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.closed = true
		s.scan.close()
	}
}
