package rpc

import (
	"context"

	"github.com/drover/drover/internal/supervisor"
	"github.com/drover/drover/internal/xmlrpc"
)

// droverBackend is what the drover.* methods need beyond backend; the
// real Supervisor has it, test fakes need not.
type droverBackend interface {
	WorkerPools() []supervisor.WorkerPool
	RollingRestart(ctx context.Context, name string, batch int) error
	RollingUpdate(ctx context.Context, name string, batch int) error
	SetPoolBounds(group string, min, max int) error
	ReloadKeeping(ctx context.Context) (supervisor.KeepingReload, error)
}

// addDroverMethods adds Drover's extensions (namespace drover.) when the
// backend supports them.
func (h *handler) addDroverMethods(m map[string]*method) {
	b, ok := h.b.(droverBackend)
	if !ok {
		return
	}
	h.addFleetMethods(m)
	m["drover.getPools"] = &method{result: "array",
		help: "Get the worker pool of every program group: size bounds, live and draining workers, " +
			"the last queue sample, the scaling target and the reason of the last decision; " +
			"with fleet_max, the cap, the fleet's leased total and this node's share\n\n" +
			"@return array result  An array of pool info structs",
		call: func(context.Context, []any) (any, error) {
			var out []xmlrpc.Struct
			for _, p := range b.WorkerPools() {
				info := poolInfo(p)
				if h.fleetShare != nil {
					if leased, total, limit, ok := h.fleetShare(p.Group); ok {
						info = append(info, member("fleet_max", limit), member("fleet_total", total), member("fleet_leased", leased))
					}
				}
				out = append(out, info)
			}
			if out == nil {
				out = []xmlrpc.Struct{}
			}
			return out, nil
		}}
	roll := func(f func(context.Context, string, int) error) func(context.Context, []any) (any, error) {
		return func(ctx context.Context, args []any) (any, error) {
			name, batch := args[0].(string), args[1].(int)
			// A roll outlives a client that goes away: stopping halfway
			// would leave the group half old, half new.
			if err := f(context.WithoutCancel(ctx), name, batch); err != nil {
				return nil, toFault(err, name)
			}
			return true, nil
		}
	}
	m["drover.rollingRestart"] = &method{result: "boolean", params: []string{"string", "int"}, defaults: []any{1},
		help: "Restart every process of a program group batch at a time without dropping capacity: " +
			"start surge workers, then stop and restart each batch, waiting for RUNNING\n\n" +
			"@param string name  The group name\n@param int batch  Processes replaced at a time (default 1)\n" +
			"@return boolean result  Always true unless error",
		call: roll(b.RollingRestart)}
	m["drover.rollingUpdate"] = &method{result: "boolean", params: []string{"string", "int"}, defaults: []any{1},
		help: "Replace a changed program group by its reread configuration batch at a time without dropping capacity\n\n" +
			"@param string name  The group name\n@param int batch  Processes replaced at a time (default 1)\n" +
			"@return boolean result  Always true unless error",
		call: roll(b.RollingUpdate)}
	m["drover.setPoolBounds"] = &method{result: "boolean", params: []string{"string", "int", "int"},
		help: "Set the size bounds of a scaling pool until its configuration changes; the scaler keeps to them at once. " +
			"1 <= min <= max <= numprocs_max, else BAD_ARGUMENTS\n\n" +
			"@param string name  The group name\n@param int min  The fewest workers\n@param int max  The most workers\n" +
			"@return boolean result  Always true unless error",
		call: func(_ context.Context, args []any) (any, error) {
			name := args[0].(string)
			if err := b.SetPoolBounds(name, args[1].(int), args[2].(int)); err != nil {
				return nil, toFault(err, name)
			}
			return true, nil
		}}
	m["drover.reloadKeeping"] = &method{result: "struct",
		help: "Reload the configuration keeping the unchanged program groups running: changed groups are rolled " +
			"or restarted, removed ones stopped, added ones started; a change outside the groups makes it a full reload\n\n" +
			"@return struct result  The group names kept, restarted, rolled, removed, added and failed, and full_reload: why it reloaded fully (empty if not)",
		call: func(ctx context.Context, _ []any) (any, error) {
			// Like a roll, it outlives a client that goes away.
			r, err := b.ReloadKeeping(context.WithoutCancel(ctx))
			if err != nil {
				return nil, &rereadError{err}
			}
			return xmlrpc.Struct{
				member("kept", nonNil(r.Kept)),
				member("restarted", nonNil(r.Restarted)),
				member("rolled", nonNil(r.Rolled)),
				member("removed", nonNil(r.Removed)),
				member("added", nonNil(r.Added)),
				member("failed", nonNil(r.Failed)),
				member("full_reload", r.FullReload),
			}, nil
		}}
}

// poolInfo is one drover.getPools entry; times are unix seconds, 0 for never.
func poolInfo(p supervisor.WorkerPool) xmlrpc.Struct {
	return xmlrpc.Struct{
		member("group", p.Group),
		member("scaling", p.Scaling),
		member("min", p.Min),
		member("max", p.Max),
		member("workers", p.Workers),
		member("busy", p.Busy),
		member("draining", p.Draining),
		member("processes", p.Processes),
		member("target", p.Target),
		member("queue", p.Queue),
		member("queue_ok", p.QueueOK),
		member("queue_error", p.QueueError),
		member("ready", p.Sample.Ready),
		member("due", p.Sample.Due),
		member("delayed", p.Sample.Delayed),
		member("reserved", p.Sample.Reserved),
		member("expired", p.Sample.Expired),
		member("oldest_wait", int(p.Sample.OldestWait.Seconds())),
		member("sampled_at", epoch(p.SampledAt)),
		member("decision", p.Decision),
		member("decided_at", epoch(p.DecidedAt)),
		member("last_resize", epoch(p.LastResize)),
		member("rolling", p.Rolling),
	}
}
