package rpc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/events"
	"github.com/drover/drover/internal/httpmux"
	"github.com/drover/drover/internal/logs"
	"github.com/drover/drover/internal/pool"
	"github.com/drover/drover/internal/process"
	"github.com/drover/drover/internal/pyrepr"
	"github.com/drover/drover/internal/supervisor"
	"github.com/drover/drover/internal/web"
	"github.com/drover/drover/internal/wire"
	"github.com/drover/drover/internal/xmlrpc"
)

// Options are what the HTTP interface serves.
type Options struct {
	Supervisor     *supervisor.Supervisor
	Pools          *pool.Pools    // the drover.* pool methods; nil leaves them out
	MainLog        *logs.MainLog  // readLog, clearLog, /mainlogtail
	Events         *events.Bus    // sendRemoteCommEvent publishes here; nil drops
	Log            process.Logger // main log, for rejected requests; nil: silent
	Identification string         // getIdentification ([supervisord] identifier)
	PID            int            // getPID
	// Fleet reads the fleet and sends it commands for drover.getFleet and
	// drover.fleet*; nil without [fleet].
	Fleet Fleet
	// FleetShare says, for a pool with fleet_max, this node's leased
	// workers, the fleet's total at the last renewal and the cap
	// (drover.getPools); nil without [fleet].
	FleetShare func(group string) (leased, total, limit int, ok bool)
	// Dashboard is what the live dashboard reads; its actions run
	// through this package's XML-RPC methods (Actions is set here).
	Dashboard web.Options
	// Upgrade runs in-place upgrades (drover.upgrade); nil: the method
	// does not exist.
	Upgrade Upgrader
	// Images is how many images the daemon process has run (1 + its
	// upgrades, fallbacks included), for drover.getVersion.
	Images int
}

// Upgrader runs the daemon's in-place upgrades (docs/upgrade.md).
type Upgrader interface {
	// Start checks the binary on disk and, if it would take over, switches
	// to it in the background; it returns the new build.
	Start() (newBuild string, err error)
	// Failure is why the last upgrade Start accepted did not switch: this
	// image runs on. "" if it has not failed (or is still under way).
	Failure() string
}

// Fleet reads every node of the fleet and sends them signed commands
// (internal/fleet's Client).
type Fleet interface {
	Nodes(ctx context.Context) ([]wire.FleetNode, error)
	Send(ctx context.Context, action, group string, nodes []string, batch int) (id string, expires time.Time, err error)
	Results(ctx context.Context, id string) (map[string]wire.FleetResult, error)
}

// mainLog is the part of *logs.MainLog the handlers use.
type mainLog interface {
	Path() string
	Clear() error
}

type handler struct {
	b              backend
	mainLog        mainLog // may be nil
	events         *events.Bus
	log            process.Logger
	identification string
	pid            int
	fleet          Fleet
	fleetShare     func(group string) (leased, total, limit int, ok bool)
	dashboard      web.Options
	upgrade        Upgrader
	images         int
	table          map[string]*method
}

func newHandler(b backend, ml mainLog, opts Options) *handler {
	h := &handler{
		b:              b,
		mainLog:        ml,
		events:         opts.Events,
		log:            opts.Log,
		identification: opts.Identification,
		pid:            opts.PID,
		fleet:          opts.Fleet,
		fleetShare:     opts.FleetShare,
		dashboard:      opts.Dashboard,
		upgrade:        opts.Upgrade,
		images:         opts.Images,
	}
	h.table = h.methods()
	h.addDroverMethods(h.table)
	h.addUpgradeMethods(h.table)
	return h
}

// Register puts every path supervisord serves on m: POST /RPC2* (XML-RPC),
// /logtail/<namespec> and /mainlogtail, the status page at /status and
// /index.html with its /tail.html, and /ok.html; and the live dashboard at
// / and /dashboard, which hands the status page's requests of / (its
// ?action= URLs and the messages they redirect to) to the status page.
func Register(m *httpmux.Mux, opts Options) {
	var ml mainLog
	if opts.MainLog != nil {
		ml = opts.MainLog
	}
	newHandler(newBackend(opts), ml, opts).register(m)
}

func (h *handler) register(m *httpmux.Mux) {
	m.HandlePrefix("/RPC2", http.HandlerFunc(h.serveRPC))
	m.HandlePrefix("/logtail", http.HandlerFunc(h.serveLogtail))
	m.HandlePrefix("/mainlogtail", http.HandlerFunc(h.serveMainLogtail))
	m.Handle("/index.html", http.HandlerFunc(h.serveStatus))
	m.Handle("/status", http.HandlerFunc(h.serveStatus))
	dopts := h.dashboard
	dopts.Actions = dashboardActions{h}
	dashboard := web.New(dopts)
	m.Handle("/dashboard", dashboard)
	m.HandlePrefix("/dashboard/", dashboard)
	m.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if classicRequest(r) {
			h.serveStatus(w, r)
			return
		}
		dashboard.ServeHTTP(w, r)
	}))
	m.Handle("/tail.html", http.HandlerFunc(h.serveTailPage))
	m.Handle("/ok.html", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "OK")
	}))
}

func (h *handler) serveRPC(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		httpmux.Error(w, http.StatusBadRequest)
		return
	}
	if r.ContentLength < 0 {
		httpmux.Error(w, http.StatusLengthRequired)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		httpmux.Error(w, http.StatusBadRequest)
		return
	}
	name, params, err := xmlrpc.DecodeCall(bytes.NewReader(body))
	if err != nil || name == "" {
		why := "no method name"
		if err != nil {
			why = "unmarshallable"
		}
		h.logf(config.LevelError, "XML-RPC request data %s is invalid: %s", loggedBody(body), why)
		httpmux.Error(w, http.StatusBadRequest)
		return
	}
	h.logf(config.LevelTrace, "XML-RPC method called: %s()", name)
	v, err := h.dispatch(r.Context(), name, params)
	var panicked *panicError
	if errors.As(err, &panicked) {
		h.logf(config.LevelCritical, "Handling XML-RPC request with data %s raised an unexpected exception: %s\n%s", loggedBody(body), panicked.value, panicked.stack)
		httpmux.Error(w, http.StatusInternalServerError)
		return
	}
	if err == nil {
		h.logf(config.LevelTrace, "XML-RPC method %s() returned successfully", name)
		sent := false
		err = xmlrpc.WriteResponse(w, v, func(n int) {
			setXMLHeaders(w, n)
			sent = true
		})
		if r, ok := v.(releaser); ok {
			r.Release()
		}
		if err != nil && !sent {
			h.logf(config.LevelCritical, "Handling XML-RPC request with data %s raised an unexpected exception: %v", loggedBody(body), err)
			httpmux.Error(w, http.StatusInternalServerError)
		}
		return // an error after the headers is the connection's: the client is gone
	}
	if r.Context().Err() != nil {
		return // the client is gone
	}
	f := toFault(err, "")
	h.logf(config.LevelTrace, "XML-RPC method %s() returned fault: [%d] %s", name, f.Code, f.String)
	out := xmlrpc.NewFault(f)
	setXMLHeaders(w, out.Len())
	out.WriteTo(w)
	out.Release()
}

// releaser is an answer whose memory is reused once it is written.
type releaser interface{ Release() }

// setXMLHeaders sets the headers of an XML-RPC answer of n bytes.
func setXMLHeaders(w http.ResponseWriter, n int) {
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("Content-Length", strconv.Itoa(n))
}

// maxLoggedBody is how much of a request body a log line quotes: Supervisor
// logs it whole, which made one 100 MB garbage POST one 100 MB line.
const maxLoggedBody = 1024

// loggedBody is the body as Python's repr() shows it, cut at maxLoggedBody
// bytes with a note of its full length.
func loggedBody(body []byte) string {
	if len(body) <= maxLoggedBody {
		return pyrepr.Str(string(body))
	}
	cut := maxLoggedBody
	for cut > 0 && !utf8.RuneStart(body[cut]) {
		cut--
	}
	return fmt.Sprintf("%s... (%d bytes in all)", pyrepr.Str(string(body[:cut])), len(body))
}

func (h *handler) logf(level config.LogLevel, format string, args ...any) {
	if h.log != nil {
		h.log.Logf(level, format, args...)
	}
}
