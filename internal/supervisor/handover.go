package supervisor

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/eventlistener"
	"github.com/drover/drover/internal/process"
)

// This file is the supervisor's side of an in-place upgrade (package
// handover): every runner frozen for the old image, every process adopted
// from its snapshot in the new one.

// FrozenProcess is one process of a frozen Supervisor.
type FrozenProcess struct {
	Group, Name string
	Command     string // the command line as read, which the new image must find unchanged
	Adopted
}

// Adopted is what the new image needs to take over one process: its
// runner's snapshot and the paths of its AUTO log files, which are names
// made up at startup (the others come from the config).
type Adopted struct {
	Snapshot             process.Snapshot
	StdoutLog, StderrLog string
}

// ErrUpgradeRefused wraps every reason Freeze refuses an upgrade.
var ErrUpgradeRefused = errors.New("upgrade refused")

// Frozen is what a frozen Supervisor hands over: its processes, the
// descriptors of the open FastCGI sockets by group name, inheritable
// until thaw, and the event listeners' state.
type Frozen struct {
	Processes   []FrozenProcess
	FCGISockets map[string]int
	Events      eventlistener.Handed
}

// Freeze stops every runner where it stands (process.Runner.Freeze) and
// returns their snapshots, the FastCGI sockets and the event listeners'
// state, and thaw, which lets everything run on (the upgrade did not
// happen). No group change, keep-reload, rolling restart or scaling
// decision can start until thaw, and no event is sent to a listener (the
// pools are held before the runners freeze, and handed over once they are).
// It refuses what CheckFreezable refuses.
func (s *Supervisor) Freeze() (frozen Frozen, thaw func(), err error) {
	groups, unlock, err := s.lockForFreeze()
	if err != nil {
		return Frozen{}, nil, err
	}
	if err := s.hub.Hold(); err != nil {
		unlock()
		return Frozen{}, nil, fmt.Errorf("%w: event listeners: %v", ErrUpgradeRefused, err)
	}
	release := make(chan struct{})
	var resumed []<-chan struct{}
	frozen.FCGISockets = map[string]int{}
	handed := map[*fcgiSocket]int{}
	// No runner may spawn before every pipe and socket is close-on-exec again.
	thaw = func() {
		for sock, fd := range handed {
			sock.takeBack(fd)
		}
		close(release)
		for _, r := range resumed {
			<-r
		}
		s.hub.Release() // after the runners: the events go to stdin queues taking writes again
		unlock()
	}
	for _, g := range groups {
		if g.fcgi != nil {
			fd, open, err := g.fcgi.handOver()
			if err != nil {
				thaw()
				return Frozen{}, nil, fmt.Errorf("%w: the FastCGI socket of %s: %v", ErrUpgradeRefused, g.Config.Name, err)
			}
			if open {
				frozen.FCGISockets[g.Config.Name], handed[g.fcgi] = fd, fd
			}
		}
		for _, p := range g.Processes {
			snap, res, err := p.Runner.Freeze(release)
			if err != nil {
				thaw()
				return Frozen{}, nil, fmt.Errorf("%w: %s: %v", ErrUpgradeRefused, p.Namespec, err)
			}
			resumed = append(resumed, res)
			// The runner writes no more: a line start held back for a
			// prefix or JSON framing is written now, as a pause would,
			// rather than lost with this image.
			for _, lw := range p.lines {
				lw.Flush()
			}
			frozen.Processes = append(frozen.Processes, FrozenProcess{Group: g.Config.Name, Name: p.Config().Name,
				Command: p.ConfigAsRead().Command,
				Adopted: Adopted{Snapshot: snap, StdoutLog: p.StdoutLogPath(), StderrLog: p.StderrLogPath()}})
		}
	}
	frozen.Events = s.hub.HandOver()
	return frozen, thaw, nil
}

// EventsSinceFreeze returns an error if an event a listener pool would
// take was published since Freeze: handed over already, it would be lost
// with this image. Call it just before the exec; thaw delivers it.
func (s *Supervisor) EventsSinceFreeze() error {
	if err := s.hub.Late(); err != nil {
		return fmt.Errorf("%w: %v", ErrUpgradeRefused, err)
	}
	return nil
}

// CheckFreezable says why Freeze would refuse now, nil if it would not:
// a pool that cannot be held (Hooks.Hold), a reload or shutdown in progress.
func (s *Supervisor) CheckFreezable() error {
	_, unlock, err := s.lockForFreeze()
	if err == nil {
		unlock()
	}
	return err
}

// holdRetry bounds how long lockForFreeze tries again while a pool is
// busy for a moment (ErrHoldBusy), and how often.
const (
	holdRetryFor   = 5 * time.Second
	holdRetryEvery = 50 * time.Millisecond
)

// lockForFreeze takes every lock Freeze holds and checks what it refuses;
// it returns the groups and unlock, or the refusal with nothing held. A
// pool busy for a moment (a scaling decision, which may need the locks
// taken here to finish) is waited for with nothing held, up to
// holdRetryFor.
func (s *Supervisor) lockForFreeze() (groups []*Group, unlock func(), err error) {
	deadline := time.Now().Add(holdRetryFor)
	for {
		groups, unlock, err = s.tryLockForFreeze()
		if !errors.Is(err, ErrHoldBusy) || time.Now().After(deadline) {
			return groups, unlock, err
		}
		time.Sleep(holdRetryEvery)
	}
}

// tryLockForFreeze is one attempt of lockForFreeze.
func (s *Supervisor) tryLockForFreeze() (groups []*Group, unlock func(), err error) {
	s.opMu.Lock()
	undo := []func(){s.opMu.Unlock}
	unlock = func() {
		for i := len(undo) - 1; i >= 0; i-- {
			undo[i]()
		}
	}
	fail := func(format string, args ...any) ([]*Group, func(), error) {
		unlock()
		return nil, nil, fmt.Errorf("%w: "+format, append([]any{ErrUpgradeRefused}, args...)...)
	}
	if m := s.Mood(); m != MoodRunning {
		return fail("the daemon is %s", m)
	}
	if !s.keepMu.TryLock() {
		return fail("a reload keeping unchanged programs is in progress")
	}
	undo = append(undo, s.keepMu.Unlock)
	groups = s.Groups()
	for _, g := range groups {
		if hold := s.opts.Hooks.Hold; hold != nil {
			release, err := hold(g.Config.Name)
			if err != nil {
				unlock()
				return nil, nil, fmt.Errorf("%w: pool %s: %w", ErrUpgradeRefused, g.Config.Name, err)
			}
			undo = append(undo, release)
		}
	}
	return groups, unlock, nil
}

// adopt makes the processes of g that the previous image handed over start
// from their snapshots; they are not autostarted.
// A group handed over takes events at once, as it did in the previous
// image: its pool is added before any runner begins.
func (s *Supervisor) adopt(g *Group) {
	for _, p := range g.Processes {
		if a, ok := s.opts.Adopt[p.Namespec]; ok {
			p.Runner.Adopt(a.Snapshot)
			p.adopted, g.tookOver = true, true
		}
	}
	if g.tookOver && g.pool != nil {
		s.hub.AddPool(g.pool)
	}
}

// adoptedLog is the path of the AUTO log of channel ("stdout", "stderr") of
// pc in the previous image, "" if pc was not handed over.
func (s *Supervisor) adoptedLog(pc *config.Process, channel string) string {
	a := s.opts.Adopt[Namespec(pc.Group, pc.Name)]
	if channel == "stderr" {
		return a.StderrLog
	}
	return a.StdoutLog
}

// adoptedMembers are the processes of gc the previous image ran: of a
// worker pool (gc has Spares) exactly those, configured or spare, as its
// scaler had sized it; nil when none was handed over, or gc is no pool
// (its configured processes are made, as at any start).
func (s *Supervisor) adoptedMembers(gc *config.Group) []*config.Process {
	if len(gc.Spares) == 0 {
		return nil
	}
	var members []*config.Process
	for _, pc := range append(slices.Clone(gc.Processes), gc.Spares...) {
		if _, ok := s.opts.Adopt[Namespec(gc.Name, pc.Name)]; ok {
			members = append(members, pc)
		}
	}
	return members
}
