package rpc

import (
	"context"
	"errors"

	"github.com/drover/drover/internal/supervisor"
	"github.com/drover/drover/internal/web"
	"github.com/drover/drover/internal/wire"
	"github.com/drover/drover/internal/xmlrpc"
)

// dashboardSource is the dashboard's view of this handler: what
// getAllProcessInfo and drover.getPools read, and the XML-RPC methods
// themselves for every action.
type dashboardSource struct{ h *handler }

func (s dashboardSource) Processes() []web.Process {
	now := timeNow()
	var out []web.Process
	for _, p := range s.h.b.AllProcesses() {
		info := p.Info()
		var limit int64
		if wc := p.Config().Worker; wc != nil {
			limit = wc.MemoryLimit
		}
		out = append(out, web.Process{Group: info.Group, Name: info.Name, Namespec: p.Namespec(),
			State: info.State.String(), Description: info.Description(now), PID: info.PID,
			Start: info.Start, MemoryLimit: limit})
	}
	return out
}

func (s dashboardSource) Pools() []supervisor.WorkerPool {
	if b, ok := s.h.b.(droverBackend); ok {
		return b.WorkerPools()
	}
	return nil
}

func (s dashboardSource) LogPath(namespec, channel string) (string, error) {
	p, err := s.h.lookupOne(namespec)
	if err != nil {
		return "", errors.New(toFault(err, namespec).String)
	}
	if channel == "stderr" {
		return p.StderrLogPath(), nil
	}
	return p.StdoutLogPath(), nil
}

func (s dashboardSource) Call(ctx context.Context, method string, params ...any) ([]string, error) {
	v, err := s.h.dispatch(ctx, method, params)
	if err != nil {
		return nil, errors.New(toFault(err, "").String)
	}
	results, _ := v.([]any)
	var failed []string
	for _, r := range results {
		st, _ := r.(xmlrpc.Struct)
		var group, name, desc string
		var status int
		for _, m := range st {
			switch m.Name {
			case "group":
				group, _ = m.Value.(string)
			case "name":
				name, _ = m.Value.(string)
			case "status":
				status, _ = m.Value.(int)
			case "description":
				desc, _ = m.Value.(string)
			}
		}
		if status != wire.FaultSuccess {
			failed = append(failed, supervisor.Namespec(group, name)+": "+desc)
		}
	}
	return failed, nil
}
