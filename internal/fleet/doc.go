// Package fleet owns a node's membership in a fleet of Drover daemons
// coordinated through Redis ([fleet], docs/fleet.md): publishing this
// node's heartbeat and compact snapshot, and reading every node's back,
// classified up, stale or gone. It only reads the supervisor (snapshots,
// events); the supervisor core knows nothing of it, and a Redis that is
// away changes nothing in what the node supervises.
package fleet
