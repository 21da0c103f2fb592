package rpc

import (
	"context"
	"errors"

	"github.com/drover/drover/internal/supervisor"
	"github.com/drover/drover/internal/wire"
	"github.com/drover/drover/internal/xmlrpc"
)

// dashboardActions runs the dashboard's actions through this handler's
// XML-RPC methods (the dashboard reads its state from the supervisor's
// Snapshot itself).
type dashboardActions struct{ h *handler }

func (s dashboardActions) Call(ctx context.Context, method string, params ...any) ([]string, error) {
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
