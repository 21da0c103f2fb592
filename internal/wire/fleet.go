package wire

// FleetNode is one node of a fleet as drover.getFleet returns it (a JSON
// array of them): what the node last published to Redis, and the reading
// node's classification of it. A gone node carries its name, state and
// last beat only: its snapshot has expired.
type FleetNode struct {
	Name       string            `json:"name"`
	State      string            `json:"state"`       // FleetUp, FleetStale or FleetGone (set by the reader)
	Beat       int64             `json:"beat_ms"`     // last heartbeat, unix milliseconds
	AgeMS      int64             `json:"age_ms"`      // age of Beat when read (set by the reader)
	IntervalMS int64             `json:"interval_ms"` // the node's heartbeat_interval
	Version    string            `json:"version,omitempty"`
	Labels     map[string]string `json:"labels,omitempty"`
	Counts     map[string]int    `json:"counts,omitempty"` // processes by state name
	Groups     []FleetGroup      `json:"groups,omitempty"`
}

// FleetGroup is one process group of a node.
type FleetGroup struct {
	Name      string         `json:"name"`
	Processes []FleetProcess `json:"processes"`
	Pool      *FleetPool     `json:"pool,omitempty"`
}

// FleetProcess is one process of a node.
type FleetProcess struct {
	Name  string `json:"name"`
	State string `json:"state"`
	PID   int    `json:"pid"`
}

// FleetPool is the worker pool of a program group on one node.
type FleetPool struct {
	Workers int    `json:"workers"`
	Busy    int    `json:"busy"`
	Target  int    `json:"target"`
	Min     int    `json:"min"`
	Max     int    `json:"max"`
	Queue   string `json:"queue,omitempty"`
	// With fleet_max: the cap, the fleet's total at this node's last lease
	// renewal, and this node's share of it.
	FleetMax   int `json:"fleet_max,omitempty"`
	FleetTotal int `json:"fleet_total,omitempty"`
	Leased     int `json:"leased,omitempty"`
	// QueueFigures is the pool's last queue sample; nil for a pool that
	// does not scale or has not sampled its queue yet.
	QueueFigures *FleetQueue `json:"queue_figures,omitempty"`
}

// FleetQueue is a scaling pool's last queue sample on its node, the
// figures `pools` shows; zeros are left out to keep the snapshot compact.
type FleetQueue struct {
	Ready        int   `json:"ready,omitempty"`
	Due          int   `json:"due,omitempty"`     // delayed jobs whose time has come
	Delayed      int   `json:"delayed,omitempty"` // not due yet
	Reserved     int   `json:"reserved,omitempty"`
	Expired      int   `json:"expired,omitempty"`        // reservations past retry_after
	OldestWaitMS int64 `json:"oldest_wait_ms,omitempty"` // wait of the oldest ready job
	SampledMS    int64 `json:"sampled_ms"`               // when the sample was taken, unix milliseconds
	// Unreachable: the last sample failed; the figures are those of the
	// last sample that succeeded.
	Unreachable bool `json:"unreachable,omitempty"`
}

// Node states of a fleet.
const (
	FleetUp    = "up"    // beat within two heartbeat intervals
	FleetStale = "stale" // missed beats, snapshot not expired yet
	FleetGone  = "gone"  // snapshot expired
)

// FleetResult is what one node reports of a fleet command
// (drover.fleetResults: a JSON object of them by node name).
type FleetResult struct {
	State   string `json:"state"` // FleetRunning, FleetDone, FleetFailed or FleetRefused
	Message string `json:"message,omitempty"`
	At      int64  `json:"at_ms"` // unix milliseconds
}

// States of a node's result of a fleet command.
const (
	FleetRunning = "running" // received and being carried out
	FleetDone    = "done"
	FleetFailed  = "failed"
	FleetRefused = "refused" // expired or from the future; bad signatures leave no result
)

// FleetSent is drover.fleetSend's answer.
type FleetSent struct {
	ID      string `json:"id"`
	Expires int64  `json:"expires_ms"` // unix milliseconds: a node that has not received it by then refuses it
}

// Fleet actions a command may carry (drover.fleetSend).
const (
	FleetStart   = "start"
	FleetStop    = "stop"
	FleetRestart = "restart"
	// FleetRoll is a node's own rolling restart of the group
	// (drover.rollingRestart), batch processes at a time.
	FleetRoll = "rolling-restart"
)
