package supervisor

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/process"
)

// Snapshot is a read-only copy of what the supervisor runs at one moment:
// every group with its processes and pool. It holds plain values only, so a
// reader (metrics, the dashboard, health checks) may keep and share it.
// Taking it holds each lock only to copy: the group list under mu, each
// pool's status under its own lock; process states are read atomically,
// one by one, so two processes may be seen a state change apart.
type Snapshot struct {
	Taken  time.Time
	Mood   Mood
	Groups []GroupSnapshot // by name
	// RecentRestarts counts the restarts of every process (those counted
	// in ProcessSnapshot.Restarts) within RecentRestartsWindow before
	// Taken, at most 10,000.
	RecentRestarts int
}

// GroupSnapshot is one active group.
type GroupSnapshot struct {
	Name      string
	Kind      config.GroupKind
	Priority  int
	Processes []ProcessSnapshot // by name
	// Pool is the worker pool of a started program group; nil for other
	// groups and before Run.
	Pool *WorkerPool
}

// ProcessSnapshot is one process: its state as getProcessInfo reports it
// plus what Drover knows beyond Supervisor.
type ProcessSnapshot struct {
	process.Info // name, group, state, pid, start/stop times, exit status, spawnerr, log paths, gate note
	Namespec     string
	Description  string // supervisorctl status's text at Taken
	Autostart    bool
	StartSecs    time.Duration
	// ReadyRequired says the daemon is ready only once this process is
	// RUNNING (ready_required, else autostart).
	ReadyRequired bool
	MemoryLimit   int64 // memory_limit in bytes, 0 when unset
	Restarts      RestartCounts
	// Busy says Laravel's job lines show a job under way; they are
	// followed for the workers of scaling pools only.
	Busy bool
}

// Ready reports whether the process counts as started for readiness at
// time now: RUNNING for at least startsecs. (The runner itself enters
// RUNNING after startsecs; the uptime check also covers a clock step.)
func (p *ProcessSnapshot) Ready(now time.Time) bool {
	return p.State == process.Running && now.Sub(p.Start) >= p.StartSecs
}

// Snapshot copies the state of every group, process and pool.
func (s *Supervisor) Snapshot() Snapshot {
	var snap Snapshot
	s.SnapshotInto(&snap)
	return snap
}

// SnapshotInto is Snapshot written into snap, reusing the groups,
// processes and pools an earlier snapshot left there: a reader that takes
// one often and keeps none (a metrics scrape) then allocates next to
// nothing for it, where a fresh Snapshot of 500 programs is about 250 KB
// for the garbage collector. Everything snap held is overwritten.
func (s *Supervisor) SnapshotInto(snap *Snapshot) {
	s.mu.Lock()
	snap.Taken, snap.Mood = time.Now(), s.mood
	snap.RecentRestarts = s.restarts.since(snap.Taken.Add(-RecentRestartsWindow))
	groups := make([]*Group, 0, len(s.groups))
	for _, g := range s.groups {
		groups = append(groups, g)
	}
	s.mu.Unlock()
	slices.SortFunc(groups, func(a, b *Group) int { return strings.Compare(a.Config.Name, b.Config.Name) })
	snap.Groups = reuse(snap.Groups, len(groups))
	for i, g := range groups {
		gs := &snap.Groups[i]
		procs, pool := reuse(gs.Processes, len(g.Processes)), gs.Pool
		*gs = GroupSnapshot{Name: g.Config.Name, Kind: g.Config.Kind, Priority: g.Config.Priority, Processes: procs}
		if h := s.opts.Hooks.Pool; h != nil {
			if st, ok := h(g); ok {
				if pool == nil {
					pool = new(WorkerPool)
				}
				*pool = st
				gs.Pool = pool
			}
		}
		for j, p := range g.Processes {
			procs[j] = s.processSnapshot(p, snap.Taken)
		}
		slices.SortFunc(procs, func(a, b ProcessSnapshot) int { return cmp.Compare(a.Name, b.Name) })
	}
}

// reuse returns a slice of n elements in the memory of old when it has
// room, whose elements the caller overwrites.
func reuse[T any](old []T, n int) []T {
	return slices.Grow(old[:0], n)[:n]
}

func (s *Supervisor) processSnapshot(p *Process, now time.Time) ProcessSnapshot {
	pc := p.Config()
	ps := ProcessSnapshot{
		Info:          p.Info(),
		Namespec:      p.Namespec,
		Autostart:     pc.Autostart,
		StartSecs:     pc.StartSecs,
		ReadyRequired: pc.ReadyRequired(),
		Restarts:      p.restarts.snapshot(),
	}
	ps.Description = ps.Info.Description(now)
	if pc.Worker != nil {
		ps.MemoryLimit = pc.Worker.MemoryLimit
	}
	if h := s.opts.Hooks.Busy; h != nil {
		ps.Busy = h(p)
	}
	return ps
}
