package web

import (
	"context"
	"embed"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"github.com/drover/drover/internal/events"
	"github.com/drover/drover/internal/guard"
	"github.com/drover/drover/internal/process"
	"github.com/drover/drover/internal/proctree"
	"github.com/drover/drover/internal/supervisor"
	"github.com/drover/drover/internal/wire"
)

// Actions runs the daemon's XML-RPC methods for the dashboard's actions.
type Actions interface {
	// Call runs method with params. err is the fault text ("BAD_NAME:
	// x"); failed lists the processes of a group or "all" call that did
	// not succeed, as "name: description".
	Call(ctx context.Context, method string, params ...any) (failed []string, err error)
}

// Options are the dashboard's collaborators.
type Options struct {
	// Snapshot returns the daemon's state: everything the page shows but
	// CPU and memory. nil: nothing runs.
	Snapshot func() supervisor.Snapshot
	// LogFile returns the log file of the process namespec's channel
	// ("stdout" or "stderr") for reading it ("" for none; an AUTO file
	// not created yet is created: supervisor.Supervisor.LogFile); found
	// is false when no process is named so. nil: none is.
	LogFile func(namespec, channel string) (path string, found bool)
	Actions Actions
	Events  *events.Bus       // wakes the stream on state changes; nil: only the periodic refresh
	Procs   *proctree.Sampler // CPU and memory; nil: none shown
	Log     process.Logger    // main log, where every action is written; nil: silent
	// Fleet reads every node of the [fleet] from Redis for the fleet
	// page; nil without [fleet] (no page).
	Fleet func(ctx context.Context) ([]wire.FleetNode, error)
}

// Handler serves the dashboard: the page at "/" and "/dashboard", and
// everything else under "/dashboard/".
type Handler struct {
	opts   Options
	hub    *hub
	fleet  fleetStreams
	csrf   *http.CrossOriginProtection
	assets http.Handler
}

//go:embed static
var static embed.FS

// StaticPrefix is where the page's assets are served; the classic status
// page takes its stylesheet from here too (StaticPrefix + "classic.css").
const StaticPrefix = "/dashboard/static/"

// New returns the dashboard's handler. It follows opts.Events until the
// daemon begins to stop.
func New(opts Options) *Handler {
	if opts.Snapshot == nil {
		opts.Snapshot = func() supervisor.Snapshot { return supervisor.Snapshot{Taken: time.Now()} }
	}
	if opts.LogFile == nil {
		opts.LogFile = func(string, string) (string, bool) { return "", false }
	}
	sub, _ := fs.Sub(static, "static")
	h := &Handler{
		opts:   opts,
		csrf:   http.NewCrossOriginProtection(),
		assets: http.StripPrefix(StaticPrefix, http.FileServerFS(sub)),
	}
	h.hub = newHub(h)
	if opts.Events != nil {
		// Any state change wakes the stream, which sends a snapshot: the
		// newest change is all the follower needs (Latest). The stop is
		// followed on its own, so that changes after it cannot replace it.
		changes := opts.Events.Subscribe(events.Named("dashboard"), events.Latest(),
			events.Kinds("PROCESS_STATE", "PROCESS_GROUP_ADDED", "PROCESS_GROUP_REMOVED"))
		stopping := opts.Events.Subscribe(events.Named("dashboard stop"),
			events.Kinds("SUPERVISOR_STATE_CHANGE_STOPPING"), events.Buffer(1))
		guard.Go("dashboard events", func() { h.hub.follow(changes, stopping) })
	}
	return h
}

// Serves reports whether the dashboard answers path.
func Serves(path string) bool {
	return path == "/" || path == "/dashboard" || strings.HasPrefix(path, "/dashboard/")
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch path := r.URL.Path; {
	case path == "/" || path == "/dashboard":
		h.servePage(w, r)
	case path == "/dashboard/":
		// The page's links are relative to where it is served.
		http.Redirect(w, r, "../dashboard", http.StatusMovedPermanently)
	case strings.HasPrefix(path, StaticPrefix):
		w.Header().Set("Cache-Control", "no-cache")
		h.assets.ServeHTTP(w, r)
	case path == "/dashboard/events":
		h.hub.serve(w, r)
	case path == "/dashboard/fleet":
		h.serveFleetPage(w, r)
	case path == "/dashboard/fleet/events":
		h.serveFleet(w, r)
	case path == "/dashboard/action":
		h.serveAction(w, r)
	case path == "/dashboard/log":
		h.serveLog(w, r)
	default:
		http.NotFound(w, r)
	}
}

func (h *Handler) servePage(w http.ResponseWriter, r *http.Request) {
	h.serveStatic(w, r, "static/index.html")
}

// serveStatic serves one of the embedded HTML pages.
func (h *Handler) serveStatic(w http.ResponseWriter, r *http.Request, name string) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	page, err := static.ReadFile(name)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	hdr := w.Header()
	hdr.Set("Content-Type", "text/html;charset=utf-8")
	hdr.Set("Cache-Control", "no-cache")
	hdr.Set("Content-Security-Policy", "default-src 'self'; style-src 'self'; script-src 'self'; img-src 'self' data:")
	hdr.Set("X-Frame-Options", "DENY")
	w.Write(page)
}

// user is who made the request, for the main log.
func user(r *http.Request) string {
	if name, _, ok := r.BasicAuth(); ok && name != "" {
		return name
	}
	return "anonymous"
}
