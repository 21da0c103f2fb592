package supervisor

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/drover/drover/internal/config"
)

// Reread re-reads the config file (reloadConfig) and makes it the pending
// config; it starts and stops nothing. It returns the names of the groups
// added (pending, not active), changed (both, not Equal) and removed (active,
// not pending): added and changed in pending order (priority, name), removed
// in activation order. A load error is returned as is and changes nothing.
func (s *Supervisor) Reread() (added, changed, removed []string, err error) {
	if s.Mood() != MoodRunning {
		return nil, nil, nil, ErrShuttingDown
	}
	if s.opts.Load == nil {
		return nil, nil, nil, errors.New("reread config: no loader")
	}
	cfg, err := s.opts.Load()
	if err != nil {
		return nil, nil, nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pending = cfg
	added, changed, removed = diff(cfg.Groups, s.activeByActivationLocked())
	return added, changed, removed, nil
}

// diff compares pending group configs with the active ones by name.
func diff(pending []*config.Group, active []*Group) (added, changed, removed []string) {
	byName := make(map[string]*config.Group, len(active))
	for _, g := range active {
		byName[g.Config.Name] = g.Config
	}
	inPending := make(map[string]bool, len(pending))
	for _, gc := range pending {
		inPending[gc.Name] = true
		switch cur := byName[gc.Name]; {
		case cur == nil:
			added = append(added, gc.Name)
		case !gc.Equal(cur):
			changed = append(changed, gc.Name)
		}
	}
	for _, g := range active {
		if !inPending[g.Config.Name] {
			removed = append(removed, g.Config.Name)
		}
	}
	return added, changed, removed
}

// activeByActivationLocked returns the active groups in activation order
// (Supervisor's dict order).
func (s *Supervisor) activeByActivationLocked() []*Group {
	gs := make([]*Group, 0, len(s.groups))
	for _, g := range s.groups {
		gs = append(gs, g)
	}
	slices.SortFunc(gs, func(a, b *Group) int { return cmp.Compare(a.seq, b.seq) })
	return gs
}

// AddGroup activates a pending group: creates its processes and AUTO logs,
// publishes PROCESS_GROUP_ADDED and starts its autostart processes
// (ErrBadName, ErrAlreadyAdded, ErrShuttingDown). Before Run it only makes
// the group active; Run starts it with the others.
func (s *Supervisor) AddGroup(ctx context.Context, name string) error {
	s.opMu.Lock()
	defer s.opMu.Unlock()
	s.mu.Lock()
	mood, running := s.mood, s.runCtx != nil
	var gc *config.Group
	for _, c := range s.pending.Groups {
		if c.Name == name {
			gc = c
		}
	}
	_, active := s.groups[name]
	s.mu.Unlock()
	switch {
	case mood != MoodRunning:
		return ErrShuttingDown
	case gc == nil:
		return ErrBadName
	case active:
		return ErrAlreadyAdded
	}
	g, err := s.newGroup(gc)
	if err != nil {
		return fmt.Errorf("add group %s: %w", name, err)
	}
	s.mu.Lock()
	s.insertLocked(g)
	if running {
		s.startLocked(g)
	}
	s.mu.Unlock()
	if running { // else Run announces and autostarts it
		s.publishGroupAdded(g)
		g.autostart(ctx)
	}
	return nil
}

// RemoveGroup drops an active group whose processes are all in stopped
// states: its runners end, its logs are closed (AUTO files stay on disk) and
// PROCESS_GROUP_REMOVED is published (ErrBadName, ErrStillRunning,
// ErrShuttingDown). If ctx ends first, the group is already gone and the
// rest happens in the background.
func (s *Supervisor) RemoveGroup(ctx context.Context, name string) error {
	s.opMu.Lock()
	defer s.opMu.Unlock()
	s.mu.Lock()
	mood, g := s.mood, s.groups[name]
	s.mu.Unlock()
	switch {
	case mood != MoodRunning:
		return ErrShuttingDown
	case g == nil:
		return ErrBadName
	case !g.stopped():
		return ErrStillRunning
	}
	s.mu.Lock()
	delete(s.groups, name)
	started := g.act.started
	if started {
		g.act.stopLocked()
	}
	s.mu.Unlock()
	if !started {
		g.end(s)
	}
	s.publishGroupRemoved(g)
	select {
	case <-g.act.endedChan():
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
