package rpc

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/drover/drover/internal/wire"
	"github.com/drover/drover/internal/xmlrpc"
)

// addFleetMethods adds drover.getFleet (the fleet as this daemon reads it
// from Redis, so that any node can show every node) and the fleet
// commands: drover.fleetSend and drover.fleetResults.
func (h *handler) addFleetMethods(m map[string]*method) {
	// fleetCall answers a JSON string of what f returns, or FAILED.
	fleetCall := func(f func(ctx context.Context, args []any) (any, error)) func(context.Context, []any) (any, error) {
		return func(ctx context.Context, args []any) (any, error) {
			if h.fleet == nil {
				return nil, newFault(wire.FaultFailed, "fleet not configured (no [fleet] section)")
			}
			v, err := f(ctx, args)
			if fault := (*xmlrpc.Fault)(nil); errors.As(err, &fault) {
				return nil, err
			}
			if err != nil {
				return nil, newFault(wire.FaultFailed, err.Error())
			}
			body, err := json.Marshal(v)
			if err != nil {
				return nil, err
			}
			return string(body), nil
		}
	}
	m["drover.getFleet"] = &method{result: "string",
		help: "Get every node of the fleet ([fleet] section) with its state (up, stale, gone), last heartbeat, " +
			"processes and pools, as a JSON array\n\n" +
			"@return string result  A JSON array of node objects (docs/fleet.md)",
		call: fleetCall(func(ctx context.Context, _ []any) (any, error) { return h.fleet.Nodes(ctx) })}
	m["drover.fleetSend"] = &method{result: "string", params: []string{"string", "string", "array", "int"}, defaults: []any{1},
		help: "Send a signed fleet command to the named nodes through Redis: start, stop, restart or " +
			"rolling-restart a group; the nodes report back (drover.fleetResults)\n\n" +
			"@param string action  start, stop, restart or rolling-restart\n@param string group  The group name\n" +
			"@param array nodes  The target node names\n@param int batch  Processes a node rolls at a time (default 1)\n" +
			"@return string result  A JSON object: the command id and its expiry (expires_ms)",
		call: fleetCall(func(ctx context.Context, args []any) (any, error) {
			list, _ := args[2].([]any)
			nodes := make([]string, 0, len(list))
			for _, v := range list {
				name, ok := v.(string)
				if !ok {
					return nil, newFault(wire.FaultIncorrectParameters, "node names are strings")
				}
				nodes = append(nodes, name)
			}
			id, expires, err := h.fleet.Send(ctx, args[0].(string), args[1].(string), nodes, args[3].(int))
			return wire.FleetSent{ID: id, Expires: expires.UnixMilli()}, err
		})}
	m["drover.fleetResults"] = &method{result: "string", params: []string{"string"},
		help: "Get what each node reported so far of a fleet command\n\n" +
			"@param string id  The command id (drover.fleetSend)\n" +
			"@return string result  A JSON object of results by node name (docs/fleet.md)",
		call: fleetCall(func(ctx context.Context, args []any) (any, error) { return h.fleet.Results(ctx, args[0].(string)) })}
}
