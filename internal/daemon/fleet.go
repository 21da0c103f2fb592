package daemon

import (
	"context"

	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/events"
	"github.com/drover/drover/internal/fleet"
	"github.com/drover/drover/internal/logs"
	"github.com/drover/drover/internal/pool"
	"github.com/drover/drover/internal/rpc"
	"github.com/drover/drover/internal/supervisor"
	"github.com/drover/drover/internal/wire"
)

// joinFleet makes this node a member of the [fleet] and returns the client
// drover.getFleet and drover.fleet* serve, and leave to call when the instance ends
// (deregister on a shutdown, not on a reload).
// Without [fleet] the client is nil ("fleet not configured").
func joinFleet(cfg *config.Fleet, sup *supervisor.Supervisor, roll fleet.Roller, leases *fleet.Leases, bus *events.Bus, ml *logs.MainLog) (
	fl rpc.Fleet, leave func(deregister bool), err error) {
	if cfg == nil {
		return nil, func(bool) {}, nil
	}
	client, err := fleet.NewClient(cfg)
	if err != nil {
		return nil, nil, err
	}
	member, err := fleet.Join(cfg, sup, roll, leases, bus, ml)
	if err != nil {
		client.Close()
		return nil, nil, err
	}
	ml.Logf(config.LevelInfo, "fleet: node %s joining through Redis every %s", cfg.NodeName, cfg.HeartbeatInterval)
	return client, func(deregister bool) { member.Stop(deregister); client.Close() }, nil
}

// fleetLeases returns the fleet's leases when [fleet] is set, and the
// same as the pools' Limiter; else nil and a nil Limiter. follow starts
// their renewals once the Supervisor exists (they read its capped groups
// as it runs them, so a reload adding or changing fleet_max is followed);
// stop gives them back.
func fleetLeases(cfg *config.Config, ml *logs.MainLog) (
	leases *fleet.Leases, limit pool.Limiter, follow func(*supervisor.Supervisor), stop func(), err error) {
	if cfg.Fleet == nil {
		for _, g := range cfg.Groups {
			if g.Scaling != nil && g.Scaling.FleetMax > 0 {
				ml.Logf(config.LevelWarn, "pool %s: fleet_max is ignored without a [fleet] section", g.Name)
			}
		}
		return nil, nil, func(*supervisor.Supervisor) {}, func() {}, nil
	}
	leases, err = fleet.NewLeases(cfg.Fleet, ml)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	follow = func(sup *supervisor.Supervisor) { leases.Follow(fleet.CappedGroups(sup), cfg.Fleet.HeartbeatInterval) }
	return leases, leases, follow, leases.Stop, nil
}

// fleetNodes is what the dashboard's fleet page reads: nil without [fleet].
func fleetNodes(fl rpc.Fleet) func(context.Context) ([]wire.FleetNode, error) {
	if fl == nil {
		return nil
	}
	return fl.Nodes
}
