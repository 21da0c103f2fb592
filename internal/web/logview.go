package web

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/drover/drover/internal/logs"
)

const (
	// defaultBacklog is how much of a log the view starts with.
	defaultBacklog = 64 << 10
	// maxBacklog bounds what a request may ask for.
	maxBacklog = 1 << 20
)

// serveLog is /dashboard/log?name=<namespec>&channel=stdout|stderr[&backlog=n]:
// the log as text, following it as supervisorctl tail -f does (the same
// reader, logs.Follow) until the browser goes away.
func (h *Handler) serveLog(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	q := r.URL.Query()
	channel := q.Get("channel")
	if channel == "" {
		channel = "stdout"
	}
	if channel != "stdout" && channel != "stderr" {
		http.Error(w, "channel must be stdout or stderr", http.StatusBadRequest)
		return
	}
	backlog := int64(defaultBacklog)
	if s := q.Get("backlog"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			http.Error(w, "bad backlog", http.StatusBadRequest)
			return
		}
		backlog = min(n, maxBacklog)
	}
	path, ok := h.opts.LogFile(q.Get("name"), channel)
	if !ok {
		http.Error(w, "BAD_NAME: "+q.Get("name"), http.StatusNotFound)
		return
	}
	if path == "" {
		http.Error(w, "no "+channel+" log for "+q.Get("name"), http.StatusNotFound)
		return
	}
	rc := startStream(w, "text/plain;charset=utf-8")
	if err := logs.Follow(r.Context(), path, w, backlog, func() { rc.Flush() }); errors.Is(err, logs.ErrNoFile) {
		w.Write([]byte("(the log file does not exist yet)\n"))
	}
}
