package metrics

import (
	"fmt"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/httpmux"
	"github.com/drover/drover/internal/process"
	"github.com/drover/drover/internal/supervisor"
)

// Options are what the metrics are read from.
type Options struct {
	Snapshot func() supervisor.Snapshot
	// EventsDropped returns the events each bus subscriber lost, by
	// subscriber name (events.Bus.Dropped); nil: not exported.
	EventsDropped func() map[string]uint64
	// Procfs is where process trees are read ("" for /proc).
	Procfs string
	// Log receives scrape errors; nil: silent.
	Log process.Logger
}

// maxScrapes bounds the scrapes served at once; more answer 503.
const maxScrapes = 4

// Register serves /metrics on m, behind the servers' authentication.
func Register(m *httpmux.Mux, opts Options) {
	m.Handle("/metrics", Handler(opts))
}

// Handler returns the /metrics handler.
func Handler(opts Options) http.Handler {
	if opts.Procfs == "" {
		opts.Procfs = "/proc"
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		newCollector(opts),
	)
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog:            errorLog{opts.Log},
		ErrorHandling:       promhttp.ContinueOnError,
		MaxRequestsInFlight: maxScrapes,
		// Compressing costs the daemon more CPU than the rest of a scrape;
		// scrapes travel over a unix socket or the local network.
		DisableCompression: true,
	})
}

// errorLog passes promhttp's errors to the main log.
type errorLog struct{ log process.Logger }

func (e errorLog) Println(v ...any) {
	if e.log != nil {
		e.log.Logf(config.LevelWarn, "metrics: %s", fmt.Sprint(v...))
	}
}
