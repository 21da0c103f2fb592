package rpc

import (
	"bytes"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/events"
	"github.com/drover/drover/internal/logs"
	"github.com/drover/drover/internal/process"
	"github.com/drover/drover/internal/pyrepr"
	"github.com/drover/drover/internal/supervisor"
	"github.com/drover/drover/internal/web"
	"github.com/drover/drover/internal/xmlrpc"
)

// Options are what the HTTP interface serves.
type Options struct {
	Supervisor     *supervisor.Supervisor
	MainLog        *logs.MainLog  // readLog, clearLog, /mainlogtail
	Events         *events.Bus    // sendRemoteCommEvent publishes here; nil drops
	Log            process.Logger // main log, for rejected requests; nil: silent
	Identification string         // getIdentification ([supervisord] identifier)
	PID            int            // getPID
	Auth           *Auth          // nil: no authentication
}

// Auth is HTTP Basic authentication as [unix_http_server] /
// [inet_http_server] configure it.
type Auth struct {
	Username string
	Password string // plain, or "{SHA}" followed by the hex SHA-1 of the password
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
	auth           *Auth
	table          map[string]*method
	dashboard      *web.Handler
}

// NewHandler returns the handler of every path supervisord serves.
func NewHandler(opts Options) http.Handler {
	var ml mainLog
	if opts.MainLog != nil {
		ml = opts.MainLog
	}
	return newHandler(supervisorBackend{opts.Supervisor}, ml, opts)
}

func newHandler(b backend, ml mainLog, opts Options) *handler {
	h := &handler{
		b:              b,
		mainLog:        ml,
		events:         opts.Events,
		log:            opts.Log,
		identification: opts.Identification,
		pid:            opts.PID,
		auth:           opts.Auth,
	}
	h.table = h.methods()
	h.addDroverMethods(h.table)
	h.dashboard = web.New(web.Options{Source: dashboardSource{h}, Events: opts.Events, Log: opts.Log})
	return h
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !h.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Basic realm="default"`)
		w.Header().Set("Connection", "close")
		writeError(w, http.StatusUnauthorized)
		return
	}
	path := r.URL.Path
	switch {
	case strings.HasPrefix(path, "/RPC2"):
		h.serveRPC(w, r)
	case strings.HasPrefix(path, "/logtail"):
		h.serveLogtail(w, r)
	case strings.HasPrefix(path, "/mainlogtail"):
		h.serveMainLogtail(w, r)
	case web.Serves(path) && !classicRequest(r):
		h.dashboard.ServeHTTP(w, r)
	case path == "/" || path == "/index.html" || path == "/status":
		h.serveStatus(w, r)
	case path == "/tail.html":
		h.serveTailPage(w, r)
	case path == "/ok.html":
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "OK")
	default:
		writeError(w, http.StatusNotFound)
	}
}

func (h *handler) authorized(r *http.Request) bool {
	if h.auth == nil {
		return true
	}
	user, pass, ok := r.BasicAuth()
	if !ok || user != h.auth.Username {
		return false
	}
	want := h.auth.Password
	if hexSum, isSHA := strings.CutPrefix(want, "{SHA}"); isSHA {
		sum := sha1.Sum([]byte(pass))
		pass, want = hex.EncodeToString(sum[:]), strings.ToLower(hexSum)
	}
	return subtle.ConstantTimeCompare([]byte(pass), []byte(want)) == 1
}

// writeError writes Medusa's HTML error page.
func writeError(w http.ResponseWriter, code int) {
	w.Header().Set("Content-Type", "text/html")
	w.WriteHeader(code)
	fmt.Fprintf(w, "<head>\r\n<title>Error response</title>\r\n</head>\r\n<body>\r\n<h1>Error response</h1>\r\n<p>Error code %d.\r\n<p>Message: %s.\r\n</body>\r\n", code, http.StatusText(code))
}

func (h *handler) serveRPC(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeError(w, http.StatusBadRequest)
		return
	}
	if r.ContentLength < 0 {
		writeError(w, http.StatusLengthRequired)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeError(w, http.StatusBadRequest)
		return
	}
	name, params, err := xmlrpc.DecodeCall(bytes.NewReader(body))
	if err != nil || name == "" {
		why := "no method name"
		if err != nil {
			why = "unmarshallable"
		}
		h.logf(config.LevelError, "XML-RPC request data %s is invalid: %s", pyrepr.Str(string(body)), why)
		writeError(w, http.StatusBadRequest)
		return
	}
	var out bytes.Buffer
	h.logf(config.LevelTrace, "XML-RPC method called: %s()", name)
	v, err := h.dispatch(r.Context(), name, params)
	var panicked *panicError
	if errors.As(err, &panicked) {
		h.logf(config.LevelCritical, "Handling XML-RPC request with data %s raised an unexpected exception: %s\n%s", pyrepr.Str(string(body)), panicked.value, panicked.stack)
		writeError(w, http.StatusInternalServerError)
		return
	}
	if err == nil {
		h.logf(config.LevelTrace, "XML-RPC method %s() returned successfully", name)
		err = xmlrpc.EncodeResponse(&out, v)
		if err != nil {
			h.logf(config.LevelCritical, "Handling XML-RPC request with data %q raised an unexpected exception: %v", body, err)
			writeError(w, http.StatusInternalServerError)
			return
		}
	} else {
		if r.Context().Err() != nil {
			return // the client is gone
		}
		f := toFault(err, "")
		h.logf(config.LevelTrace, "XML-RPC method %s() returned fault: [%d] %s", name, f.Code, f.String)
		xmlrpc.EncodeFault(&out, f)
	}
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("Content-Length", fmt.Sprint(out.Len()))
	w.Write(out.Bytes())
}

func (h *handler) logf(level config.LogLevel, format string, args ...any) {
	if h.log != nil {
		h.log.Logf(level, format, args...)
	}
}
