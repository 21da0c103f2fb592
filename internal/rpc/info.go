package rpc

import (
	"math"
	"slices"
	"sync"
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
	infos  []process.Info
	now    time.Time
	pooled *[]process.Info // where infos go back on Release; nil: nowhere
}

// infoSlices keep the infos of answers sent: copying 500 of them (96 KB)
// per call had the collector run every 15 calls or so, a fifth of the
// daemon's CPU in a loop of calls. A slice kept here is dropped by the
// collector within two cycles when calls stop.
var infoSlices sync.Pool // of *[]process.Info

// takeAllProcessInfo returns the infos of ps at time now, in a slice that
// Release hands back.
func takeAllProcessInfo(ps []proc, now time.Time) allProcessInfo {
	pooled, _ := infoSlices.Get().(*[]process.Info)
	if pooled == nil {
		pooled = new([]process.Info)
	}
	infos := slices.Grow((*pooled)[:0], len(ps))[:len(ps)]
	for i, p := range ps {
		infos[i] = p.Info()
	}
	*pooled = infos
	return allProcessInfo{infos, now, pooled}
}

// Release hands the infos back for the next call, once the answer is
// written; a nested answer (in a multicall) is not released, only
// collected.
func (a allProcessInfo) Release() {
	if a.pooled != nil {
		infoSlices.Put(a.pooled)
	}
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

// processInfoShape is Supervisor's ProcessInfo struct: its members in
// Supervisor's order.
var processInfoShape = xmlrpc.NewStructShape(
	xmlrpc.Field{Name: "name"}, xmlrpc.Field{Name: "group"},
	xmlrpc.Field{Name: "start", Int: true}, xmlrpc.Field{Name: "stop", Int: true},
	xmlrpc.Field{Name: "now", Int: true}, xmlrpc.Field{Name: "state", Int: true},
	xmlrpc.Field{Name: "statename"}, xmlrpc.Field{Name: "spawnerr"},
	xmlrpc.Field{Name: "exitstatus", Int: true}, xmlrpc.Field{Name: "logfile"},
	xmlrpc.Field{Name: "stdout_logfile"}, xmlrpc.Field{Name: "stderr_logfile"},
	xmlrpc.Field{Name: "pid", Int: true}, xmlrpc.Field{Name: "description"},
)

// writeProcessInfo writes the struct straight into m; description is room
// to format the description in.
func writeProcessInfo(m *xmlrpc.Message, info *process.Info, nowEpoch int64, now time.Time, description []byte) {
	w := processInfoShape.Begin(m)
	w.String(info.Name)
	w.String(info.Group)
	w.Int(epoch(info.Start))
	w.Int(epoch(info.Stop))
	w.Int(nowEpoch)
	w.Int(int64(info.State))
	w.String(info.State.String())
	w.String(info.SpawnErr)
	w.Int(int64(info.ExitStatus))
	w.String(info.StdoutLog)
	w.String(info.StdoutLog)
	w.String(info.StderrLog)
	w.Int(int64(info.PID))
	w.Text(info.AppendDescription(description, now))
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
