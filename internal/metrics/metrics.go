package metrics

import (
	"net/http"
	"strings"
	"sync"

	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/guard"
	"github.com/drover/drover/internal/httpmux"
	"github.com/drover/drover/internal/process"
	"github.com/drover/drover/internal/proctree"
	"github.com/drover/drover/internal/supervisor"
)

// Options are what the metrics are read from.
type Options struct {
	// Snapshot writes the supervisor's state into its argument, reusing
	// the memory of the last snapshot written there
	// (supervisor.Supervisor.SnapshotInto).
	Snapshot func(*supervisor.Snapshot)
	// EventsDropped returns the events each bus subscriber lost, by
	// subscriber name (events.Bus.Dropped); nil: not exported.
	EventsDropped func() map[string]uint64
	// Procs reads the process trees, sharing recent readings with the
	// dashboard; nil: no RSS or CPU series.
	Procs *proctree.Sampler
	// Log receives scrape errors; nil: silent.
	Log process.Logger
}

// maxScrapes bounds the scrapes served at once; more answer 503.
const maxScrapes = 4

// textFormat is the Content-Type of every answer: Prometheus's text
// format, version 0.0.4, which every scraper takes whatever it asks for
// first.
const textFormat = "text/plain; version=0.0.4; charset=utf-8"

// Register serves /metrics on m, behind the servers' authentication.
func Register(m *httpmux.Mux, opts Options) {
	m.Handle("/metrics", Handler(opts))
}

// handler answers a scrape with Drover's own metrics, written by
// exposition, the daemon's process metrics (selfStats) and its Go runtime
// metrics (goStats).
type handler struct {
	own     collector
	self    *selfStats
	runtime *goStats
	log     process.Logger
	slots   chan struct{} // one per scrape under way
	chunks  sync.Pool     // *[]byte of chunkSize, reused
}

// Handler returns the /metrics handler.
func Handler(opts Options) http.Handler {
	h := &handler{own: collector{opts: opts}, self: newSelfStats("/proc"), runtime: newGoStats(), log: opts.Log, slots: make(chan struct{}, maxScrapes),
		chunks: sync.Pool{New: func() any { b := make([]byte, 0, chunkSize+4096); return &b }}}
	h.own.snaps.New = func() any { return new(supervisor.Snapshot) }
	return h
}

// ServeHTTP answers uncompressed: on a unix socket or a local network gzip
// cost the daemon more CPU than the rest of a scrape. The answer goes out
// in chunks as it is written (see exposition).
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	select {
	case h.slots <- struct{}{}:
		defer func() { <-h.slots }()
	default:
		http.Error(w, "too many scrapes at once, try again later", http.StatusServiceUnavailable)
		return
	}
	chunk := h.chunks.Get().(*[]byte)
	e := exposition{buf: (*chunk)[:0], out: w}
	defer func() {
		*chunk = e.buf[:0]
		h.chunks.Put(chunk)
	}()
	w.Header().Set("Content-Type", textFormat)
	// A panic while writing fails this scrape, logged at CRIT by guard;
	// the daemon goes on.
	p := guard.Run("metrics scrape", func() { h.write(&e) })
	switch {
	case p == nil:
		e.flush()
	case !e.flushed:
		http.Error(w, "metrics: "+p.Error(), http.StatusInternalServerError)
	default:
		// Part of the answer has gone out under status 200: break the
		// connection, so that the scraper sees a failed scrape rather than
		// a short one (net/http recovers this panic and logs nothing).
		panic(http.ErrAbortHandler)
	}
}

// write writes the whole answer into e; what fails is logged and left out.
func (h *handler) write(e *exposition) {
	if refused := h.own.write(e); len(refused) > 0 {
		h.logf("metrics: left out (not UTF-8): %s", strings.Join(refused, ", "))
	}
	h.self.write(e)
	h.runtime.write(e)
}

func (h *handler) logf(format string, args ...any) {
	if h.log != nil {
		h.log.Logf(config.LevelWarn, format, args...)
	}
}
