package pool

import (
	"slices"

	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/supervisor"
)

// This file is the pools' side of an in-place upgrade (package handover):
// the scaler's state handed to the next image, so a pool keeps its size
// and goes on deciding where it stood, the workers it leased (fleet_max),
// and a roll in progress, which the next image finishes. Its workers, those
// beyond numprocs and the surge workers included, are handed over by the
// Supervisor.

// Handed is one pool's state across an upgrade. Field names are part of
// the handover format.
type Handed struct {
	Group string `json:"group"`
	// Status is the scaler's report: its target, last decision, last
	// resize (so the cooldown goes on), queue sample and decision counts.
	Status supervisor.WorkerPool `json:"status"`
	// Min and Max are bounds set at run time (SetPoolBounds), 0 for the
	// configured ones.
	Min int `json:"min,omitempty"`
	Max int `json:"max,omitempty"`
	// Leased are the workers the scaler acquired from the Limiter (the
	// fleet's leases) beyond numprocs. Format 4.
	Leased int `json:"leased,omitempty"`
	// Roll is the rolling restart or update in progress, nil for none.
	// Format 4.
	Roll *RollState `json:"roll,omitempty"`
	// Draining are the workers the scaler is stopping, to remove once
	// stopped. Format 4.
	Draining []string `json:"draining,omitempty"`
}

// Replaces says whether the roll handed over will replace the process
// called name with the group's config in the next image: a rolling update
// has yet to, so the process may still run a command the configuration
// no longer has.
func (h Handed) Replaces(name string) bool {
	r := resumable(h)
	return r != nil && r.Update && slices.Contains(r.Todo[r.Done:], name)
}

// Leased maps the scaling pools of handed to the workers their scalers
// leased (0 included: the pool may hold a lease for its numprocs).
func Leased(handed []Handed) map[string]int {
	m := map[string]int{}
	for _, h := range handed {
		if h.Status.Scaling {
			m[h.Group] = h.Leased
		}
	}
	return m
}

// HandOver returns the state of every started pool that scales or rolls.
// Call it while the pools are held (supervisor.Freeze): no scaler decides
// meanwhile, and a roll's processes no longer change.
func (m *Pools) HandOver() []Handed {
	m.mu.Lock()
	pools := make([]*workerPool, 0, len(m.m))
	for _, pl := range m.m {
		pools = append(pools, pl)
	}
	m.mu.Unlock()
	var out []Handed
	for _, pl := range pools {
		g := pl.act.Group()
		if g == nil {
			continue
		}
		pl.mu.Lock()
		h := Handed{Group: pl.name, Status: pl.statusLocked(), Leased: pl.held}
		h.Status.Scaling = g.Config.Scaling != nil
		if pl.rolling != nil {
			r := *pl.rolling
			h.Roll = &r
		}
		for p := range pl.draining {
			h.Draining = append(h.Draining, p.Config().Name)
		}
		slices.Sort(h.Draining)
		if g.Config.Scaling != nil && pl.bounds.on == g.Config.Scaling {
			h.Min, h.Max = pl.bounds.min, pl.bounds.max
		}
		pl.mu.Unlock()
		if g.Config.Scaling != nil || h.Roll != nil {
			out = append(out, h)
		}
	}
	return out
}

// TakeOver gives the pools what the previous image handed over; each pool
// starts from it once, when its group starts. Call it before the
// Supervisor runs.
func (m *Pools) TakeOver(handed []Handed) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.adopted = make(map[string]Handed, len(handed))
	for _, h := range handed {
		m.adopted[h.Group] = h
	}
}

// takeOver starts pl, of group g, from h: run-time bounds that no longer
// fit g's scaling config are dropped, as a config change drops them. The
// leased workers are held again when the pools have a Limiter. It returns
// the processes the scaler was draining, which are drained again.
func (pl *workerPool) takeOver(h Handed, g *supervisor.Group, limited bool) (draining []*supervisor.Process) {
	sc := g.Config.Scaling
	pl.mu.Lock()
	defer pl.mu.Unlock()
	st := h.Status
	st.Group, st.Rolling = pl.name, ""
	if resumable(h) != nil {
		st.Rolling = "resuming after the upgrade" // until the roll says where it stands
	}
	pl.status = &st
	if sc != nil && h.Max > 0 && 1 <= h.Min && h.Min <= h.Max && h.Max <= sc.Max {
		pl.bounds = bounds{on: sc, min: h.Min, max: h.Max}
	}
	if limited && sc != nil {
		pl.held = max(h.Leased, 0)
	}
	for _, p := range g.Processes {
		if slices.Contains(h.Draining, p.Config().Name) {
			pl.markDraining(p)
			draining = append(draining, p)
		}
	}
	return draining
}

// resumable returns the roll of h as the next image carries it out, nil
// for none or for a state that does not hold together.
func resumable(h Handed) *RollState {
	r := h.Roll
	if r == nil || r.Batch < 1 || r.Batch != len(r.Surge) || r.Done < 0 || r.Done > len(r.Todo) {
		return nil
	}
	st := *r
	return &st
}

// resumeRoll finishes in this image the roll st the previous one handed
// over, pl.roll held (and released at the end). The processes took the
// group's config as this image read it, so what is left to replace is
// restarted.
func (m *Pools) resumeRoll(pl *workerPool, st *RollState) {
	defer pl.roll.Unlock()
	ctx := pl.act.Context()
	select {
	case <-m.s.Ready():
	case <-ctx.Done():
		return
	}
	g := pl.act.Group()
	if g == nil {
		return
	}
	m.s.Logf(config.LevelInfo, "rolling restart of %s: resumed after the upgrade, %d of %d replaced", pl.name, st.Done, len(st.Todo))
	restart := func(*supervisor.Process) (*config.Process, bool) { return nil, true }
	if err := m.runRoll(ctx, pl, g.Config, st, restart, nil); err != nil {
		m.s.Logf(config.LevelWarn, "pool %s: rolling restart: %v", pl.name, err)
	}
}
