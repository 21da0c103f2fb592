package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/wire"
)

// maxActionBody bounds an action request.
const maxActionBody = 4096

// actionRequest is the body of POST /dashboard/action.
type actionRequest struct {
	Action string `json:"action"` // start, stop, restart, signal, rolling, bounds, clearlog
	Scope  string `json:"scope"`  // process, group or all
	Name   string `json:"name"`   // namespec or group name; "" for all
	Signal string `json:"signal"` // for signal: a name ("HUP") or number
	// For bounds: the pool's new numprocs_min and numprocs_max, which the
	// daemon checks.
	Min int `json:"min"`
	Max int `json:"max"`
}

// actionResult is the answer.
type actionResult struct {
	OK      bool   `json:"ok"`
	Message string `json:"message"`
}

// rpcCalls maps an action and scope to the XML-RPC methods it runs, in
// order: the dashboard has no start/stop semantics of its own.
var rpcCalls = map[string]map[string][]string{
	"start": {"process": {"supervisor.startProcess"}, "group": {"supervisor.startProcessGroup"},
		"all": {"supervisor.startAllProcesses"}},
	"stop": {"process": {"supervisor.stopProcess"}, "group": {"supervisor.stopProcessGroup"},
		"all": {"supervisor.stopAllProcesses"}},
	// supervisorctl restart: stop, then start.
	"restart": {"process": {"supervisor.stopProcess", "supervisor.startProcess"},
		"group": {"supervisor.stopProcessGroup", "supervisor.startProcessGroup"},
		"all":   {"supervisor.stopAllProcesses", "supervisor.startAllProcesses"}},
	"signal": {"process": {"supervisor.signalProcess"}, "group": {"supervisor.signalProcessGroup"},
		"all": {"supervisor.signalAllProcesses"}},
	"rolling":  {"group": {"drover.rollingRestart"}},
	"bounds":   {"group": {"drover.setPoolBounds"}},
	"clearlog": {"process": {"supervisor.clearProcessLogs"}},
}

// serveAction is POST /dashboard/action. Only a same-origin JSON POST is
// taken (no form from another site can make one), and every action is
// written to the main log with who asked.
func (h *Handler) serveAction(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if err := h.csrf.Check(r); err != nil {
		http.Error(w, "cross-origin request refused", http.StatusForbidden)
		return
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		http.Error(w, "the body must be application/json", http.StatusUnsupportedMediaType)
		return
	}
	var req actionRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, maxActionBody)).Decode(&req); err != nil {
		http.Error(w, "bad request: "+err.Error(), http.StatusBadRequest)
		return
	}
	what := describe(req)
	// An action outlives a browser that goes away, as the XML-RPC methods'
	// callers' actions do once started.
	err := h.run(context.WithoutCancel(r.Context()), req)
	res := actionResult{OK: err == nil, Message: what + ": done"}
	if err != nil {
		res.Message = what + ": " + err.Error()
	}
	if h.opts.Log != nil {
		h.opts.Log.Logf(config.LevelInfo, "dashboard: %s asked to %s", user(r), res.Message)
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(res)
}

// describe names an action for the log and the answer, e.g. "stop group
// web", "set bounds [2-5] of group worker".
func describe(req actionRequest) string {
	var b strings.Builder
	switch req.Action {
	case "signal":
		b.WriteString(req.Action)
		if req.Signal != "" {
			b.WriteString(" " + req.Signal)
		}
	case "bounds":
		fmt.Fprintf(&b, "set bounds [%d-%d] of", req.Min, req.Max)
	default:
		b.WriteString(req.Action)
	}
	switch req.Scope {
	case "all":
		b.WriteString(" all")
	case "group":
		b.WriteString(" group " + req.Name)
	default:
		b.WriteString(" " + req.Name)
	}
	return b.String()
}

// run performs req through the XML-RPC methods.
func (h *Handler) run(ctx context.Context, req actionRequest) error {
	methods := rpcCalls[req.Action][req.Scope]
	if methods == nil {
		return fmt.Errorf("unknown action %q for %q", req.Action, req.Scope)
	}
	var params []any
	switch req.Scope {
	case "process", "group":
		if req.Name == "" {
			return errors.New("no name given")
		}
		params = append(params, req.Name)
	}
	switch req.Action {
	case "signal":
		if req.Signal == "" {
			return errors.New("no signal given")
		}
		params = append(params, req.Signal)
	case "rolling":
		params = append(params, 1)
	case "bounds":
		params = append(params, req.Min, req.Max)
	}
	var failed []string
	for i, m := range methods {
		f, err := h.opts.Actions.Call(ctx, m, params...)
		// Restarting a process that is not running just starts it.
		if err != nil && !(req.Action == "restart" && i == 0 && strings.HasPrefix(err.Error(), wire.FaultName(wire.FaultNotRunning))) {
			return err
		}
		failed = append(failed, f...)
	}
	if len(failed) > 0 {
		return errors.New(strings.Join(failed, "; "))
	}
	return nil
}
