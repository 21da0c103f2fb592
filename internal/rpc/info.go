package rpc

import (
	"fmt"
	"math"
	"time"

	"github.com/drover/drover/internal/process"
)

// timeNow is the clock of the "now" field and of uptimes; tests replace it.
var timeNow = time.Now

// processInfo is Supervisor's 14-key ProcessInfo struct.
func processInfo(info process.Info, now time.Time) map[string]any {
	m := map[string]any{
		"name":           info.Name,
		"group":          info.Group,
		"start":          epoch(info.Start),
		"stop":           epoch(info.Stop),
		"now":            epoch(now),
		"state":          int(info.State),
		"statename":      info.State.String(),
		"spawnerr":       info.SpawnErr,
		"exitstatus":     info.ExitStatus,
		"logfile":        info.StdoutLog,
		"stdout_logfile": info.StdoutLog,
		"stderr_logfile": info.StderrLog,
		"pid":            info.PID,
	}
	m["description"] = description(info, now)
	return m
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
