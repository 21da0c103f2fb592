package daemon

import (
	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/events"
	"github.com/drover/drover/internal/fleet"
	"github.com/drover/drover/internal/logs"
	"github.com/drover/drover/internal/rpc"
	"github.com/drover/drover/internal/supervisor"
)

// joinFleet makes this node a member of the [fleet] and returns the reader
// drover.getFleet serves, and leave to call when the instance ends
// (deregister on a shutdown, not on a reload).
// Without [fleet] the reader is nil ("fleet not configured").
func joinFleet(cfg *config.Fleet, sup *supervisor.Supervisor, bus *events.Bus, ml *logs.MainLog) (
	read rpc.FleetReader, leave func(deregister bool), err error) {
	if cfg == nil {
		return nil, func(bool) {}, nil
	}
	reader, err := fleet.NewReader(cfg)
	if err != nil {
		return nil, nil, err
	}
	member, err := fleet.Join(cfg, sup.Snapshot, bus, ml)
	if err != nil {
		reader.Close()
		return nil, nil, err
	}
	ml.Logf(config.LevelInfo, "fleet: node %s joining through Redis every %s", cfg.NodeName, cfg.HeartbeatInterval)
	return reader, func(deregister bool) { member.Stop(deregister); reader.Close() }, nil
}
