package rpc

import (
	"context"
	"encoding/json"

	"github.com/drover/drover/internal/wire"
)

// addFleetMethods adds drover.getFleet: the fleet as this daemon reads it
// from Redis, so that any node can show every node.
func (h *handler) addFleetMethods(m map[string]*method) {
	m["drover.getFleet"] = &method{result: "string",
		help: "Get every node of the fleet ([fleet] section) with its state (up, stale, gone), last heartbeat, " +
			"processes and pools, as a JSON array\n\n" +
			"@return string result  A JSON array of node objects (docs/fleet.md)",
		call: func(ctx context.Context, _ []any) (any, error) {
			if h.fleet == nil {
				return nil, newFault(wire.FaultFailed, "fleet not configured (no [fleet] section)")
			}
			nodes, err := h.fleet.Nodes(ctx)
			if err != nil {
				return nil, newFault(wire.FaultFailed, err.Error())
			}
			body, err := json.Marshal(nodes)
			if err != nil {
				return nil, err
			}
			return string(body), nil
		}}
}
