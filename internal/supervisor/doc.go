// Package supervisor owns the set of active process groups: it creates them
// from the configuration (one process.Runner goroutine per process, shared
// child log files), starts them in priority order, applies reread/add/remove,
// and stops them group by group in reverse priority order on shutdown or reload.
//
// Ownership: Supervisor.mu guards the group maps and the mood and is never held
// across I/O or a wait; Supervisor.opMu serialises the operations that change
// the set of groups (creating, removing, shutting down); each Runner owns its
// process state.
//
// Worker pools (workerpool.go, scale.go, rolling.go): a program group's
// process list can change while it runs — the scaler grows and shrinks it
// with its queue, rolling restarts add surge workers. A change replaces the
// group's Processes slice (copy-on-write under mu, opMu held), so a *Group
// once obtained keeps a consistent list.
package supervisor
