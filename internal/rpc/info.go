package rpc

import (
	"fmt"
	"math"
	"time"

	"github.com/drover/drover/internal/process"
	"github.com/drover/drover/internal/xmlrpc"
)

// timeNow is the clock of the "now" field and of uptimes; tests replace it.
var timeNow = time.Now

// processInfo is Supervisor's 14-key ProcessInfo struct, in its member order.
func processInfo(info process.Info, now time.Time) xmlrpc.Struct {
	return xmlrpc.Struct{
		member("name", info.Name),
		member("group", info.Group),
		member("start", epoch(info.Start)),
		member("stop", epoch(info.Stop)),
		member("now", epoch(now)),
		member("state", int(info.State)),
		member("statename", info.State.String()),
		member("spawnerr", info.SpawnErr),
		member("exitstatus", info.ExitStatus),
		member("logfile", info.StdoutLog),
		member("stdout_logfile", info.StdoutLog),
		member("stderr_logfile", info.StderrLog),
		member("pid", info.PID),
		member("description", description(info, now)),
	}
}

// epoch returns t in whole seconds clamped to XML-RPC's int range; the
// zero time is 0.
func epoch(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return max(min(t.Unix(), math.MaxInt32), math.MinInt32)
}

// description is the text supervisorctl status shows after the state.
func description(info process.Info, now time.Time) string {
	if info.Waiting != "" && info.State.IsStopped() {
		return info.Waiting
	}
	switch info.State {
	case process.Running:
		uptime := max(epoch(now)-epoch(info.Start), 0)
		return fmt.Sprintf("pid %d, uptime %s", info.PID, formatUptime(uptime))
	case process.Fatal, process.Backoff:
		if info.SpawnErr != "" {
			return info.SpawnErr
		}
		return fmt.Sprintf("unknown error (try \"tail %s\")", info.Name)
	case process.Stopped, process.Exited:
		if info.Start.IsZero() {
			return "Not started"
		}
		return time.Unix(epoch(info.Stop), 0).Format("Jan 02 03:04 PM")
	}
	return ""
}

// formatUptime formats seconds like Python's str(timedelta): "2:03:04",
// "1 day, 2:03:04", "3 days, 0:00:05".
func formatUptime(seconds int64) string {
	days, rest := seconds/86400, seconds%86400
	hms := fmt.Sprintf("%d:%02d:%02d", rest/3600, rest%3600/60, rest%60)
	switch days {
	case 0:
		return hms
	case 1:
		return "1 day, " + hms
	}
	return fmt.Sprintf("%d days, %s", days, hms)
}

func member(name string, value any) xmlrpc.Member {
	return xmlrpc.Member{Name: name, Value: value}
}
