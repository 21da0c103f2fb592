package rpc

import (
	"context"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/httpmux"
	"github.com/drover/drover/internal/process"
	"github.com/drover/drover/internal/pyrepr"
	"github.com/drover/drover/internal/web"
	"github.com/drover/drover/internal/wire"
	"github.com/drover/drover/internal/xmlrpc"
)

// classicRequest is a request of Supervisor's status page at "/": one
// with an action (scripts use these URLs) or the message an action
// redirects to.
func classicRequest(r *http.Request) bool {
	q := r.URL.Query()
	return r.URL.Path == "/" && (q.Has("action") || q.Has("message") || r.Method == http.MethodPost)
}

// serveStatus is the classic status page at /status and /index.html, and
// at / for its actions and messages. With an action
// parameter it performs the action and redirects to the page with a message,
// as Supervisor's web UI does.
func (h *handler) serveStatus(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		httpmux.Error(w, http.StatusNotFound)
		return
	}
	if err := r.ParseForm(); err != nil {
		httpmux.Error(w, http.StatusBadRequest)
		return
	}
	noCache(w.Header())
	if action := r.Form.Get("action"); action != "" {
		message, ok := h.performAction(r.Context(), r.Form.Get("processname"), action)
		if !ok { // Supervisor raises ValueError: HTTP 500
			httpmux.Error(w, http.StatusBadRequest)
			return
		}
		if r.Context().Err() != nil {
			return
		}
		w.Header().Set("Location", serverURL(r)+"/?message="+pyrepr.Quote(message))
		httpmux.Error(w, http.StatusMovedPermanently)
		return
	}
	w.Header().Set("Content-Type", "text/html;charset=utf-8")
	page := statusPage{Message: r.Form.Get("message")}
	t := timeNow()
	for _, p := range h.b.AllProcesses() {
		info := p.Info()
		page.Rows = append(page.Rows, statusRow{
			Namespec:    p.Namespec(),
			State:       strings.ToLower(info.State.String()),
			Class:       stateClass(info.State),
			Description: info.Description(t),
			Running:     info.State == process.Running,
			Startable:   info.State == process.Stopped || info.State == process.Exited || info.State == process.Fatal,
		})
	}
	if err := statusTemplate().Execute(w, page); err != nil {
		h.logf(config.LevelError, "render status page: %v", err)
	}
}

func noCache(hdr http.Header) {
	hdr.Set("Pragma", "no-cache")
	hdr.Set("Cache-Control", "no-cache")
	hdr.Set("Expires", "Thu, 01 Jan 1970 00:00:00 GMT")
}

type statusPage struct {
	Message string
	Rows    []statusRow
}

type statusRow struct {
	Namespec, State, Class, Description string
	Running, Startable                  bool // which of Start / Restart+Stop to offer
}

func stateClass(s process.State) string {
	switch s {
	case process.Running:
		return "statusrunning"
	case process.Backoff, process.Fatal:
		return "statuserror"
	}
	return "statusnominal"
}

// The pages' templates are parsed on first use, not at start-up: every
// run of the binary (supervisorctl included) paid for them in its init.
var statusTemplate = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("status").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Supervisor Status</title>
<link rel="stylesheet" href="` + web.StaticPrefix + `classic.css">
</head>
<body>
<div class="page">
<h1>Supervisor Status <a href="/">Live dashboard</a></h1>
{{with .Message}}<div class="status_msg" role="status">{{.}}</div>{{end}}
<ul class="buttons">
<li><a class="button" href="index.html?action=refresh">Refresh</a></li>
<li><a class="button danger" href="index.html?action=restartall">Restart All</a></li>
<li><a class="button danger" href="index.html?action=stopall">Stop All</a></li>
</ul>
{{if .Rows}}<div class="table"><table>
<thead><tr><th>State</th><th>Description</th><th>Name</th><th>Action</th></tr></thead>
<tbody>
{{range .Rows}}<tr>
<td class="status"><span class="{{.Class}}">{{.State}}</span></td>
<td>{{.Description}}</td>
<td><a href="tail.html?processname={{.Namespec}}" target="_blank">{{.Namespec}}</a></td>
<td class="actions">{{if .Running}}<a class="button danger" href="index.html?processname={{.Namespec}}&amp;action=restart">Restart</a> <a class="button danger" href="index.html?processname={{.Namespec}}&amp;action=stop">Stop</a>{{end}}{{if .Startable}}<a class="button" href="index.html?processname={{.Namespec}}&amp;action=start">Start</a>{{end}} <a class="button" href="index.html?processname={{.Namespec}}&amp;action=clearlog">Clear Log</a> <a class="button" href="logtail/{{.Namespec}}" target="_blank">Tail -f Stdout</a> <a class="button" href="logtail/{{.Namespec}}/stderr" target="_blank">Tail -f Stderr</a></td>
</tr>
{{end}}</tbody>
</table></div>{{else}}<p>No programs to manage</p>{{end}}
</div>
</body>
</html>
`))
})

// performAction runs a status page action and returns Supervisor's message;
// ok is false for an unknown action.
func (h *handler) performAction(ctx context.Context, namespec, action string) (message string, ok bool) {
	ctime := func() string { return timeNow().Format(time.ANSIC) }
	switch action {
	case "refresh":
		return "Page refreshed at " + ctime(), true
	case "stopall":
		h.dispatch(ctx, "supervisor.stopAllProcesses", nil)
		return "All stopped at " + ctime(), true
	case "restartall":
		h.dispatch(ctx, "system.multicall", []any{[]any{
			map[string]any{"methodName": "supervisor.stopAllProcesses"},
			map[string]any{"methodName": "supervisor.startAllProcesses"},
		}})
		return "All restarted at " + ctime(), true
	}
	if namespec == "" {
		return "", false
	}
	if _, err := h.lookupOne(namespec); err != nil {
		return "No such process named " + namespec, true
	}
	switch action {
	case "start":
		if _, err := h.dispatch(ctx, "supervisor.startProcess", []any{namespec}); err != nil {
			return fmt.Sprintf("ERROR: Process %s: %s", namespec, startErrorText(toFault(err, namespec))), true
		}
		return "Process " + namespec + " started", true
	case "stop":
		if _, err := h.dispatch(ctx, "supervisor.stopProcess", []any{namespec}); err != nil {
			return unexpectedFault(toFault(err, namespec)), true
		}
		return "Process " + namespec + " stopped", true
	case "restart":
		h.dispatch(ctx, "system.multicall", []any{[]any{
			map[string]any{"methodName": "supervisor.stopProcess", "params": []any{namespec}},
			map[string]any{"methodName": "supervisor.startProcess", "params": []any{namespec}},
		}})
		return "Process " + namespec + " restarted", true
	case "clearlog":
		if _, err := h.dispatch(ctx, "supervisor.clearProcessLogs", []any{namespec}); err != nil {
			return unexpectedFault(toFault(err, namespec)), true
		}
		return "Log for " + namespec + " cleared", true
	}
	return "", false
}

func startErrorText(f *xmlrpc.Fault) string {
	switch f.Code {
	case wire.FaultNoFile:
		return "no such file"
	case wire.FaultNotExecutable:
		return "file not executable"
	case wire.FaultAlreadyStarted:
		return "already started"
	case wire.FaultSpawnError:
		return "spawn error"
	case wire.FaultAbnormalTermination:
		return "abnormal termination"
	}
	return unexpectedFault(f)
}

func unexpectedFault(f *xmlrpc.Fault) string {
	return fmt.Sprintf("unexpected rpc fault [%d] %s", f.Code, f.String)
}

// serveTailPage is /tail.html: the end of a process's stdout log.
func (h *handler) serveTailPage(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		httpmux.Error(w, http.StatusNotFound)
		return
	}
	r.ParseForm()
	name := r.Form.Get("processname")
	limit := 1024
	if s := r.Form.Get("limit"); isDigits(s) {
		n, _ := strconv.Atoi(s)
		limit = max(limit, n)
	}
	page := tailPage{Name: name, Limit: limit, Tail: "No process name found"}
	if name != "" {
		v, err := h.dispatch(r.Context(), "supervisor.readProcessStdoutLog", []any{name, -limit, 0})
		switch f := toFaultOrNil(err, name); {
		case f == nil:
			page.Tail = v.(string)
		case f.Code == wire.FaultNoFile:
			page.Tail = "No file for " + name
		default:
			page.Tail = "ERROR: " + unexpectedFault(f)
		}
	}
	noCache(w.Header())
	w.Header().Set("Content-Type", "text/html;charset=utf-8")
	tailTemplate().Execute(w, page)
}

func toFaultOrNil(err error, name string) *xmlrpc.Fault {
	if err == nil {
		return nil
	}
	return toFault(err, name)
}

func isDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

type tailPage struct {
	Name, Tail string
	Limit      int
}

var tailTemplate = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("tail").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Supervisor tail of process {{.Name}}</title>
<link rel="stylesheet" href="` + web.StaticPrefix + `classic.css">
</head>
<body>
<div class="page">
<h1>Supervisor tail of process {{.Name}}</h1>
<p><a class="button" href="tail.html?processname={{.Name}}&amp;limit={{.Limit}}">Refresh</a></p>
<pre id="tailbody">{{.Tail}}</pre>
</div>
</body>
</html>
`))
})

// serverURL is the scheme and host the client used, as Supervisor derives
// it from the Host header (default ports omitted).
func serverURL(r *http.Request) string {
	host := r.Host
	if host == "" {
		host = "localhost"
	}
	host = strings.TrimSuffix(host, ":80")
	return "http://" + strings.TrimSuffix(host, "/")
}
