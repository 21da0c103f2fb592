package ctl

import (
	"encoding/json"
	"io"

	"github.com/drover/drover/internal/client"
	"github.com/drover/drover/internal/wire"
)

// StatusJSON is one element of `status --json` output (a JSON array in
// status order). The schema is stable: fields are only ever added.
//
//	name, group, namespec  process name, group name, display name
//	state, statename       numeric state code and its name (e.g. 20, "RUNNING")
//	pid                    process id, 0 when not running
//	uptime_seconds         now-start while RUNNING, else 0
//	description            the text status prints in its last column
//	exitstatus             last exit status
//	start, stop, now       epoch seconds of last start, last stop (0 = never), server time
//	spawnerr               last spawn error or ""
//	stdout_logfile, stderr_logfile  log paths or ""
type StatusJSON struct {
	Name          string `json:"name"`
	Group         string `json:"group"`
	Namespec      string `json:"namespec"`
	State         int    `json:"state"`
	Statename     string `json:"statename"`
	PID           int    `json:"pid"`
	UptimeSeconds int    `json:"uptime_seconds"`
	Description   string `json:"description"`
	ExitStatus    int    `json:"exitstatus"`
	Start         int    `json:"start"`
	Stop          int    `json:"stop"`
	Now           int    `json:"now"`
	SpawnErr      string `json:"spawnerr"`
	StdoutLogfile string `json:"stdout_logfile"`
	StderrLogfile string `json:"stderr_logfile"`
}

// AvailJSON is one element of `avail --json` output (a JSON array in avail
// order: by process name).
//
//	namespec, group, name            display name, group name, process name
//	in_use                           the group is active (not only configured)
//	autostart                        autostart=true
//	group_priority, process_priority the two priorities avail prints as g:p
type AvailJSON struct {
	Namespec        string `json:"namespec"`
	Group           string `json:"group"`
	Name            string `json:"name"`
	InUse           bool   `json:"in_use"`
	Autostart       bool   `json:"autostart"`
	GroupPriority   int    `json:"group_priority"`
	ProcessPriority int    `json:"process_priority"`
}

func statusJSON(infos []client.ProcessInfo) []StatusJSON {
	out := make([]StatusJSON, 0, len(infos))
	for _, info := range infos {
		s := StatusJSON{
			Name: info.Name, Group: info.Group, Namespec: info.Namespec(),
			State: int(info.State), Statename: info.StateName, PID: info.PID,
			Description: info.Description, ExitStatus: info.ExitStatus,
			Start: info.Start, Stop: info.Stop, Now: info.Now,
			SpawnErr: info.SpawnErr, StdoutLogfile: info.StdoutLogfile,
			StderrLogfile: info.StderrLogfile,
		}
		if info.State == wire.ProcessRunning && s.Now > s.Start {
			s.UptimeSeconds = s.Now - s.Start
		}
		out = append(out, s)
	}
	return out
}

func availJSON(infos []client.ConfigInfo) []AvailJSON {
	out := make([]AvailJSON, 0, len(infos))
	for _, info := range infos {
		out = append(out, AvailJSON{
			Namespec: info.Namespec(), Group: info.Group, Name: info.Name,
			InUse: info.InUse, Autostart: info.Autostart,
			GroupPriority: info.GroupPriority, ProcessPriority: info.ProcessPriority,
		})
	}
	return out
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
