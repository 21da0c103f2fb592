package metrics

import (
	"bytes"
	"net/http"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/common/expfmt"

	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/guard"
	"github.com/drover/drover/internal/httpmux"
	"github.com/drover/drover/internal/process"
	"github.com/drover/drover/internal/proctree"
	"github.com/drover/drover/internal/supervisor"
)

// Options are what the metrics are read from.
type Options struct {
	Snapshot func() supervisor.Snapshot
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
// format, which every scraper takes whatever it asks for first.
var textFormat = expfmt.NewFormat(expfmt.TypeTextPlain)

// Register serves /metrics on m, behind the servers' authentication.
func Register(m *httpmux.Mux, opts Options) {
	m.Handle("/metrics", Handler(opts))
}

// handler answers a scrape with Drover's own metrics, written by
// exposition, and the daemon's Go runtime and process metrics from
// client_golang's standard collectors.
type handler struct {
	own     collector
	runtime prometheus.Gatherer
	log     process.Logger
	slots   chan struct{} // one per scrape under way
	bufs    sync.Pool     // *bytes.Buffer, reused: an answer is about 0.5 MB with 500 programs
}

// Handler returns the /metrics handler.
func Handler(opts Options) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return &handler{own: collector{opts}, runtime: reg, log: opts.Log, slots: make(chan struct{}, maxScrapes),
		bufs: sync.Pool{New: func() any { return new(bytes.Buffer) }}}
}

// ServeHTTP answers uncompressed: on a unix socket or a local network gzip
// cost the daemon more CPU than the rest of a scrape.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	select {
	case h.slots <- struct{}{}:
		defer func() { <-h.slots }()
	default:
		http.Error(w, "too many scrapes at once, try again later", http.StatusServiceUnavailable)
		return
	}
	buf := h.bufs.Get().(*bytes.Buffer)
	defer h.bufs.Put(buf)
	buf.Reset()
	// A panic while writing fails this scrape, logged at CRIT by guard;
	// the daemon goes on.
	if p := guard.Run("metrics scrape", func() { h.write(buf) }); p != nil {
		http.Error(w, "metrics: "+p.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", string(textFormat))
	w.Write(buf.Bytes())
}

// write writes the whole answer into buf; what fails is logged and left out.
func (h *handler) write(buf *bytes.Buffer) {
	e := exposition{buf: buf.AvailableBuffer()}
	if refused := h.own.write(&e); len(refused) > 0 {
		h.logf("metrics: left out (not UTF-8): %s", strings.Join(refused, ", "))
	}
	buf.Write(e.buf)
	families, err := h.runtime.Gather()
	if err != nil {
		h.logf("metrics: %v", err)
	}
	enc := expfmt.NewEncoder(buf, textFormat)
	for _, f := range families {
		if err := enc.Encode(f); err != nil {
			h.logf("metrics: %v", err)
		}
	}
}

func (h *handler) logf(format string, args ...any) {
	if h.log != nil {
		h.log.Logf(config.LevelWarn, format, args...)
	}
}
