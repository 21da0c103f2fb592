package rpc

import (
	"context"
	"slices"
	"strings"

	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/events"
	"github.com/drover/drover/internal/supervisor"
	"github.com/drover/drover/internal/version"
	"github.com/drover/drover/internal/xmlrpc"
)

// addStateMethods adds the methods about supervisord itself and its
// configuration.
func (h *handler) addStateMethods(m map[string]*method) {
	constant := func(v any) func(context.Context, []any) (any, error) {
		return func(context.Context, []any) (any, error) { return v, nil }
	}
	m["supervisor.getAPIVersion"] = &method{result: "string", call: constant(version.API),
		help: "Return the version of the RPC API used by supervisord\n\n@return string version id"}
	m["supervisor.getVersion"] = m["supervisor.getAPIVersion"]
	m["supervisor.getSupervisorVersion"] = &method{result: "string", call: constant(version.Supervisor),
		help: "Return the version of Supervisor that this daemon is compatible with\n\n@return string version id"}
	m["supervisor.getIdentification"] = &method{result: "string", call: constant(h.identification),
		help: "Return the identifying string of supervisord\n\n@return string identifier identifying string"}
	m["supervisor.getPID"] = &method{result: "int", call: constant(h.pid),
		help: "Return the PID of supervisord\n\n@return int PID"}
	m["supervisor.getState"] = &method{result: "struct",
		help: "Return the current state of supervisord as a struct\n\n@return struct A struct with keys int statecode, string statename",
		call: func(context.Context, []any) (any, error) {
			mood := h.b.Mood()
			return xmlrpc.Struct{member("statecode", int(mood)), member("statename", mood.String())}, nil
		}}
	m["supervisor.shutdown"] = &method{result: "boolean",
		help: "Shut down the supervisor process\n\n@return boolean result always returns True unless error",
		call: func(context.Context, []any) (any, error) { h.b.Shutdown(); return true, nil }}
	m["supervisor.restart"] = &method{result: "boolean",
		help: "Restart the supervisor process\n\n@return boolean result  always return True unless error",
		call: func(context.Context, []any) (any, error) {
			// Drover validates the configuration first (see Supervisor.Restart).
			if err := h.b.Restart(); err != nil {
				return nil, &rereadError{err}
			}
			return true, nil
		}}
	m["supervisor.reloadConfig"] = &method{result: "array",
		help: "Reload the configuration.\n\nThe result contains three arrays containing names of process groups:\n\n* `added` gives the process groups that have been added\n* `changed` gives the process groups whose contents have changed\n* `removed` gives the process groups that are no longer in the configuration\n\n@return array result  [[added, changed, removed]]",
		call: func(context.Context, []any) (any, error) {
			added, changed, removed, err := h.b.Reread()
			if err != nil {
				return nil, &rereadError{err}
			}
			return []any{[]any{nonNil(added), nonNil(changed), nonNil(removed)}}, nil
		}}
	m["supervisor.addProcessGroup"] = &method{result: "boolean", params: []string{"string"},
		help: "Update the config for a running process from config file.\n\n@param string name         name of process group to add\n@return boolean result     true if successful",
		call: func(ctx context.Context, args []any) (any, error) {
			name := args[0].(string)
			if err := h.b.AddGroup(ctx, name); err != nil {
				return nil, toFault(err, name)
			}
			return true, nil
		}}
	m["supervisor.removeProcessGroup"] = &method{result: "boolean", params: []string{"string"},
		help: "Remove a stopped process from the active configuration.\n\n@param string name         name of process group to remove\n@return boolean result     Indicates whether the removal was successful",
		call: func(ctx context.Context, args []any) (any, error) {
			name := args[0].(string)
			if err := h.b.RemoveGroup(ctx, name); err != nil {
				return nil, toFault(err, name)
			}
			return true, nil
		}}
	m["supervisor.getAllConfigInfo"] = &method{result: "array",
		help: "Get info about all available process configurations. Each struct represents a single process (i.e. groups get flattened).\n\n@return array result  An array of process config info structs",
		call: func(context.Context, []any) (any, error) { return h.allConfigInfo(), nil }}
	m["supervisor.sendRemoteCommEvent"] = &method{result: "boolean", params: []string{"string", "string"}, anyMood: true,
		help: "Send an event that will be received by event listener subprocesses subscribing to the RemoteCommunicationEvent.\n\n@param  string  type  String for the \"type\" key in the event header\n@param  string  data  Data for the event body\n@return boolean       Always return True unless error",
		call: func(_ context.Context, args []any) (any, error) {
			if h.events != nil {
				h.events.Publish(events.RemoteCommunication{Type: args[0].(string), Data: args[1].(string)})
			}
			return true, nil
		}}
}

func nonNil(names []string) []string {
	if names == nil {
		return []string{}
	}
	return names
}

// allConfigInfo lists the processes of every pending group, sorted by
// process name only, with Supervisor 4.2.5's keys in its member order.
func (h *handler) allConfigInfo() []xmlrpc.Struct {
	var infos []xmlrpc.Struct
	for _, g := range h.b.PendingConfig().Groups {
		inuse := h.b.HasGroup(g.Name)
		for _, p := range g.Processes {
			var uid any = "none"
			if p.UID >= 0 {
				uid = p.UID
			}
			serverURL := "none"
			if p.ServerURL != "" && !strings.EqualFold(p.ServerURL, "AUTO") {
				serverURL = p.ServerURL
			}
			info := xmlrpc.Struct{
				member("autostart", p.Autostart),
				member("directory", orNone(p.Directory)),
				member("uid", uid),
				member("command", p.Command),
				member("exitcodes", p.ExitCodes),
				member("group", g.Name),
				member("group_prio", g.Priority),
				member("inuse", inuse),
				member("killasgroup", p.KillAsGroup),
				member("name", p.Name),
				member("process_prio", p.Priority),
				member("redirect_stderr", p.RedirectStderr),
				member("startretries", p.StartRetries),
				member("startsecs", int(p.StartSecs.Seconds())),
			}
			active := h.activeProc(p)
			info = appendChildLogInfo(info, "stdout_", p.Stdout, active, proc.StdoutLogPath)
			info = append(info,
				member("stopsignal", int(p.StopSignal)),
				member("stopwaitsecs", int(p.StopWait.Seconds())))
			info = appendChildLogInfo(info, "stderr_", p.Stderr, active, proc.StderrLogPath)
			info = append(info, member("serverurl", serverURL))
			infos = append(infos, info)
		}
	}
	// Member 9 is the process name.
	slices.SortStableFunc(infos, func(a, b xmlrpc.Struct) int {
		return strings.Compare(a[9].Value.(string), b[9].Value.(string))
	})
	return infos
}

// activeProc returns the running instance of the pending process config p,
// or nil when p has been re-read since (or its group is not active).
func (h *handler) activeProc(p *config.Process) proc {
	ps, wildcard, err := h.b.Lookup(supervisor.Namespec(p.Group, p.Name))
	if err != nil || wildcard || len(ps) != 1 || ps[0].ConfigAsRead() != p {
		return nil
	}
	return ps[0]
}

// appendChildLogInfo adds the six keys of one channel. An AUTO log shows its
// real path while the config is the one the process runs with, and "auto"
// once re-read, as in Supervisor.
func appendChildLogInfo(info xmlrpc.Struct, prefix string, l config.ChildLog, active proc, path func(proc) string) xmlrpc.Struct {
	var logfile string
	switch {
	case l.Kind == config.LogNone:
		logfile = "none"
	case l.Kind == config.LogFile || l.Path != "":
		logfile = l.Path
	case active != nil && path(active) != "":
		logfile = path(active)
	default:
		logfile = "auto"
	}
	return append(info,
		member(prefix+"capture_maxbytes", l.CaptureMaxBytes),
		member(prefix+"events_enabled", l.EventsEnabled),
		member(prefix+"logfile", logfile),
		member(prefix+"logfile_backups", l.Backups),
		member(prefix+"logfile_maxbytes", l.MaxBytes),
		member(prefix+"syslog", l.Syslog))
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
