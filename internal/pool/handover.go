package pool

import (
	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/supervisor"
)

// This file is the pools' side of an in-place upgrade (package handover):
// the scaler's state handed to the next image, so a pool keeps its size
// and goes on deciding where it stood. Its workers, those beyond numprocs
// included, are handed over by the Supervisor.

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
}

// HandOver returns the state of every started pool. Call it while the
// pools are held (supervisor.Freeze): no scaler decides meanwhile.
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
		if g == nil || g.Config.Scaling == nil {
			continue
		}
		pl.mu.Lock()
		h := Handed{Group: pl.name, Status: pl.status}
		if pl.bounds.on == g.Config.Scaling {
			h.Min, h.Max = pl.bounds.min, pl.bounds.max
		}
		pl.mu.Unlock()
		out = append(out, h)
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

// takeOver starts pl from h under the scaling config sc: run-time bounds
// that no longer fit sc are dropped, as a config change drops them.
func (pl *workerPool) takeOver(h Handed, sc *config.Scaling) {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	st := h.Status
	st.Group, st.Rolling = pl.name, ""
	pl.status = st
	if sc != nil && h.Max > 0 && 1 <= h.Min && h.Min <= h.Max && h.Max <= sc.Max {
		pl.bounds = bounds{on: sc, min: h.Min, max: h.Max}
	}
}
