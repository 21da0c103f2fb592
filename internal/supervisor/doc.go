// Package supervisor is the core: it owns the set of active process groups,
// creates them from the configuration (one process.Runner per process,
// shared child log files), starts them in priority order, applies
// reread/add/remove and reloads keeping unchanged programs, and stops them
// group by group in reverse priority order on shutdown or reload.
//
// Features live around it and attach through Options.Hooks: worker pools
// (internal/pool) get each program group's Activation as it starts and
// grow, shrink and roll it through that handle; start gates (internal/gate)
// get a StartGate per process; memory limits (internal/memlimit) run as a
// loop. They read state through Snapshot, Groups and the processes' Info,
// follow changes with Subscribe (bounded, filtered), and start processes on
// their own through IfRunning. The core knows nothing of queues, probes or
// the process table (internal/archtest enforces it).
//
// Ownership: Supervisor.mu guards the group map and the mood and is never
// held across I/O or a wait; Supervisor.opMu serialises the operations that
// change the set of groups or a group's processes (creating, removing,
// Activation.AddProcess/RemoveProcess, shutting down); each Runner owns its
// process state. A change to a group's process list or config replaces its
// *Group (copy-on-write under mu), so a *Group once obtained keeps a
// consistent list.
package supervisor
