package supervisor

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/guard"
	"github.com/drover/drover/internal/latch"
)

// ErrNotActive says the group of an Activation was removed or replaced by
// a later activation of the same name.
var ErrNotActive = errors.New("group is no longer active")

// An Activation is one life of a group: from its creation (New, AddGroup)
// until its runners have ended. A rolling update changes the group's
// processes and config within one activation; removing the group and adding
// it again makes a new one. Features (internal/pool) hold an Activation to
// act on their group, and compare Activations, never group pointers, to tell
// it from a later group of the same name.
type Activation struct {
	s    *Supervisor
	name string
	// started: startLocked began the runners; stopped: stopLocked ended
	// them. Guarded by s.mu.
	started, stopped bool
	// ctx is the runners' context: it ends when the group is removed or
	// the daemon stops. Made by the first Context once the runners have
	// started (most groups are never asked: a context with its place in
	// its parent is about 130 bytes); guarded by s.mu.
	ctx    context.Context
	cancel context.CancelFunc
	// begun are the processes whose runners startLocked began, which stop
	// closes (AddProcess's runners end with their own contexts, children
	// of ctx); guarded by s.mu.
	begun []*Process

	mu    sync.Mutex
	ended latch.Latch                     // every runner has returned and the logs are released; guarded by mu
	added map[*Process]context.CancelFunc // runners started by AddProcess; guarded by mu
}

func (s *Supervisor) newActivation(name string) *Activation {
	return &Activation{s: s, name: name}
}

// stopLocked ends the activation: its context, and its runners as the end
// of a context of theirs would. One call for the group replaces a context
// callback per runner, which with the context's records cost about 0.5 KB
// a program. s.mu is held; the runners end in goroutines of their own.
func (a *Activation) stopLocked() {
	a.stopped = true
	if a.cancel != nil {
		a.cancel()
	}
	for _, p := range a.begun {
		p.Close()
	}
	a.begun = nil
}

// end records that every runner has returned and the logs are released.
func (a *Activation) end() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.ended.Set()
}

// endedChan is closed once the activation has ended (end).
func (a *Activation) endedChan() <-chan struct{} {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.ended.Chan()
}

// Name is the group's name.
func (a *Activation) Name() string { return a.name }

// Supervisor is the Supervisor the group belongs to.
func (a *Activation) Supervisor() *Supervisor { return a.s }

// Context ends when the group is removed or the daemon stops; nil before
// the group's runners started.
func (a *Activation) Context() context.Context {
	a.s.mu.Lock()
	defer a.s.mu.Unlock()
	if a.started && a.ctx == nil {
		a.ctx, a.cancel = context.WithCancel(a.s.runCtx)
		if a.stopped {
			a.cancel()
		}
	}
	return a.ctx
}

// Group returns the active group of this activation, nil once it is gone.
// The group's process list and config may change (AddProcess,
// RemoveProcess, SetConfig): each change makes a new *Group, so one
// obtained stays consistent.
func (a *Activation) Group() *Group {
	a.s.mu.Lock()
	defer a.s.mu.Unlock()
	return a.groupLocked()
}

func (a *Activation) groupLocked() *Group {
	if g := a.s.groups[a.name]; g != nil && g.act == a {
		return g
	}
	return nil
}

// Go runs f in a goroutine of its own that Run waits for before it
// returns; f must return soon after Context ends. Call it only from the
// Started hook or from a goroutine started by Go, so that the wait cannot
// have begun.
func (a *Activation) Go(name string, f func()) {
	a.s.runners.Go(func() { guard.Run(name, f) })
}

// AddProcess creates a process from pc in the group and starts its runner
// (not the process): ErrShuttingDown, ErrNotActive, ErrAlreadyAdded for a
// name in use.
func (a *Activation) AddProcess(pc *config.Process) (*Process, error) {
	s := a.s
	s.opMu.Lock()
	defer s.opMu.Unlock()
	if s.Mood() != MoodRunning {
		return nil, ErrShuttingDown
	}
	g := a.Group()
	if g == nil {
		return nil, ErrNotActive
	}
	for _, p := range g.Processes {
		if p.Config().Name == pc.Name {
			return nil, fmt.Errorf("add %s: %w", pc.Name, ErrAlreadyAdded)
		}
	}
	p, err := s.newProcess(pc, nil)
	if err != nil {
		return nil, fmt.Errorf("add %s: %w", pc.Name, err)
	}
	ctx, cancel := context.WithCancel(a.Context())
	s.runners.Add(1)
	p.Begin(ctx, func() {
		s.releaseProcessLogs(p)
		s.runners.Done()
	})
	a.mu.Lock()
	if a.added == nil {
		a.added = map[*Process]context.CancelFunc{}
	}
	a.added[p] = cancel
	a.mu.Unlock()
	s.mu.Lock()
	ng := *g
	ng.Processes = append(slices.Clone(g.Processes), p)
	slices.SortStableFunc(ng.Processes, func(a, b *Process) int {
		ac, bc := a.Config(), b.Config()
		return cmp.Or(cmp.Compare(ac.Priority, bc.Priority), strings.Compare(ac.Name, bc.Name))
	})
	s.groups[a.name] = &ng
	s.mu.Unlock()
	return p, nil
}

// RemoveProcess drops a stopped process from the group. The runner of a
// process AddProcess added ends; a configured one stays idle (STOPPED, out
// of sight) until the group ends, as its runner belongs to the group.
func (a *Activation) RemoveProcess(p *Process) {
	s := a.s
	s.opMu.Lock()
	defer s.opMu.Unlock()
	a.mu.Lock()
	cancel := a.added[p]
	delete(a.added, p)
	a.mu.Unlock()
	if cancel != nil {
		defer cancel()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g := a.groupLocked()
	if g == nil {
		return
	}
	ng := *g
	ng.Processes = slices.DeleteFunc(slices.Clone(g.Processes), func(q *Process) bool { return q == p })
	s.groups[a.name] = &ng
}

// SetConfig makes next the group's config (a rolling update has made its
// processes match it); a gone activation is left alone.
func (a *Activation) SetConfig(next *config.Group) {
	s := a.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur := a.groupLocked(); cur != nil && cur.Config != next {
		ng := *cur
		ng.Config = next
		s.groups[a.name] = &ng
	}
}
