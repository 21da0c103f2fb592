package rpc

import (
	"math"
	"time"

	"github.com/drover/drover/internal/process"
	"github.com/drover/drover/internal/xmlrpc"
)

// timeNow is the clock of the "now" field and of uptimes; tests replace it.
var timeNow = time.Now

// processInfo is Supervisor's 14-member ProcessInfo struct of info at time
// now: getProcessInfo's answer.
type processInfo struct {
	info process.Info
	now  time.Time
}

func (p processInfo) MarshalXMLRPC(m *xmlrpc.Message) {
	var description [64]byte
	writeProcessInfo(m, &p.info, epoch(p.now), p.now, description[:0])
}

// allProcessInfo is getAllProcessInfo's array of processInfo, all at time
// now, taken when the method ran.
type allProcessInfo struct {
	infos []process.Info
	now   time.Time
}

func (a allProcessInfo) MarshalXMLRPC(m *xmlrpc.Message) {
	var description [64]byte
	now := epoch(a.now)
	m.BeginArray()
	for i := range a.infos {
		writeProcessInfo(m, &a.infos[i], now, a.now, description[:0])
	}
	m.EndArray()
}

// writeProcessInfo writes the struct straight into m, members in
// Supervisor's order; description is room to format the description in.
func writeProcessInfo(m *xmlrpc.Message, info *process.Info, nowEpoch int64, now time.Time, description []byte) {
	m.BeginStruct()
	xmlrpc.StringMember(m, "name", info.Name)
	xmlrpc.StringMember(m, "group", info.Group)
	m.IntMember("start", epoch(info.Start))
	m.IntMember("stop", epoch(info.Stop))
	m.IntMember("now", nowEpoch)
	m.IntMember("state", int64(info.State))
	xmlrpc.StringMember(m, "statename", info.State.String())
	xmlrpc.StringMember(m, "spawnerr", info.SpawnErr)
	m.IntMember("exitstatus", int64(info.ExitStatus))
	xmlrpc.StringMember(m, "logfile", info.StdoutLog)
	xmlrpc.StringMember(m, "stdout_logfile", info.StdoutLog)
	xmlrpc.StringMember(m, "stderr_logfile", info.StderrLog)
	m.IntMember("pid", int64(info.PID))
	xmlrpc.StringMember(m, "description", info.AppendDescription(description, now))
	m.EndStruct()
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
