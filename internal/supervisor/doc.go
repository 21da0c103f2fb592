// Package supervisor owns the set of active process groups: it creates them
// from the configuration (one process.Runner goroutine per process, shared
// child log files), starts them in priority order, applies reread/add/remove,
// and stops them group by group in reverse priority order on shutdown or reload.
//
// Ownership: Supervisor.mu guards the group maps and the mood and is never held
// across I/O or a wait; Supervisor.opMu serialises the operations that change
// the set of groups (creating, removing, shutting down); each Runner owns its
// process state.
package supervisor
