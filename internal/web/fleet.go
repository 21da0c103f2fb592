package web

import (
	"context"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/drover/drover/internal/wire"
)

// fleetEvery is how often an open fleet page reads the fleet from Redis:
// often enough to see a node turn stale within a heartbeat interval of
// the default 5 s.
const fleetEvery = time.Second

// fleetMessage is one message of the fleet stream.
type fleetMessage struct {
	Now   int64            `json:"now"` // unix milliseconds
	Nodes []wire.FleetNode `json:"nodes"`
	Error string           `json:"error,omitempty"` // why the fleet could not be read (Redis away)
}

// fleetStreams counts the open fleet streams of one server (maxClients).
type fleetStreams struct{ open atomic.Int32 }

// serveFleetPage is /dashboard/fleet: the fleet page, or 404 without [fleet].
func (h *Handler) serveFleetPage(w http.ResponseWriter, r *http.Request) {
	if h.opts.Fleet == nil {
		http.Error(w, "fleet not configured (no [fleet] section)", http.StatusNotFound)
		return
	}
	h.serveStatic(w, r, "static/fleet.html")
}

// serveFleet is /dashboard/fleet/events: every node of the fleet as this
// daemon reads it from Redis, at once and then every fleetEvery. Each
// open stream reads on its own (one ZREVRANGE and one MGET); at most
// maxClients are open.
func (h *Handler) serveFleet(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method != http.MethodGet:
		w.Header().Set("Allow", "GET")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	case h.opts.Fleet == nil:
		http.Error(w, "fleet not configured (no [fleet] section)", http.StatusNotFound)
		return
	}
	if h.fleet.open.Add(1) > maxClients {
		h.fleet.open.Add(-1)
		http.Error(w, "too many dashboards open", http.StatusServiceUnavailable)
		return
	}
	defer h.fleet.open.Add(-1)
	rc := startStream(w, "text/event-stream")
	w.Write([]byte("retry: 1000\n\n"))
	rc.Flush()
	tick := time.NewTicker(fleetEvery)
	defer tick.Stop()
	for {
		msg := fleetMessage{Nodes: []wire.FleetNode{}}
		ctx, cancel := context.WithTimeout(r.Context(), fleetEvery)
		nodes, err := h.opts.Fleet(ctx)
		cancel()
		msg.Now = time.Now().UnixMilli()
		if err != nil {
			msg.Error = err.Error()
		} else {
			msg.Nodes = nodes
		}
		rc.SetWriteDeadline(time.Now().Add(writeTimeout))
		if _, err := w.Write(encodeEvent("fleet", msg)); err != nil || rc.Flush() != nil || h.hub.ending.Load() {
			return
		}
		select {
		case <-r.Context().Done():
			return
		case <-tick.C:
		}
	}
}
