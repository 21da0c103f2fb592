package rpc

import (
	"net/http"
	"os"
	"strings"

	"github.com/drover/drover/internal/httpmux"
	"github.com/drover/drover/internal/logs"
)

// tailBacklog is how much of the existing log a tail stream starts with.
const tailBacklog = 1024

// serveLogtail streams /logtail/<namespec>[/stdout|/stderr].
func (h *handler) serveLogtail(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		httpmux.Error(w, http.StatusBadRequest)
		return
	}
	_, rest, _ := strings.Cut(strings.TrimLeft(r.URL.Path, "/"), "/")
	namespec, channel, found := strings.Cut(rest, "/")
	if !found {
		channel = "stdout"
	}
	ps, wildcard, err := h.b.Lookup(namespec)
	if err != nil || wildcard || len(ps) != 1 {
		httpmux.Error(w, http.StatusNotFound)
		return
	}
	var logfile string
	switch channel {
	case "stdout":
		logfile = ps[0].StdoutLogFile()
	case "stderr":
		logfile = ps[0].StderrLogFile()
	}
	h.follow(w, r, logfile)
}

// serveMainLogtail streams the main log.
func (h *handler) serveMainLogtail(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		httpmux.Error(w, http.StatusBadRequest)
		return
	}
	h.follow(w, r, h.mainLogPath())
}

// follow streams logfile until the client goes away; a NONE or missing log
// is 404, as Supervisor answers.
func (h *handler) follow(w http.ResponseWriter, r *http.Request, logfile string) {
	if logfile == "" {
		httpmux.Error(w, http.StatusNotFound)
		return
	}
	st, err := os.Stat(logfile)
	if err != nil {
		httpmux.Error(w, http.StatusNotFound)
		return
	}
	hdr := w.Header()
	hdr.Set("Last-Modified", st.ModTime().UTC().Format(http.TimeFormat))
	hdr.Set("Content-Type", "text/plain;charset=utf-8")
	hdr.Set("X-Accel-Buffering", "no")
	// The status goes out at once, as Supervisor's does, also for an empty
	// log: a client must not wait for the first byte to know the stream is
	// there. A log removed since the Stat then just ends the stream.
	rc := http.NewResponseController(w)
	flush := func() { rc.Flush() }
	w.WriteHeader(http.StatusOK)
	flush()
	logs.Follow(r.Context(), logfile, w, tailBacklog, flush)
}
