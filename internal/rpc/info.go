package rpc

import (
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
		member("description", info.Description(now)),
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

func member(name string, value any) xmlrpc.Member {
	return xmlrpc.Member{Name: name, Value: value}
}
