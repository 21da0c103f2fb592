package events

// ProcessGroupAdded is published when a process group becomes active
// (at startup and on addProcessGroup).
type ProcessGroupAdded struct{ Group string }

func (ProcessGroupAdded) Name() string { return "PROCESS_GROUP_ADDED" }

// ProcessGroupRemoved is published when an active process group is dropped.
type ProcessGroupRemoved struct{ Group string }

func (ProcessGroupRemoved) Name() string { return "PROCESS_GROUP_REMOVED" }

// SupervisorRunning is published when supervisord's main loop starts.
type SupervisorRunning struct{}

func (SupervisorRunning) Name() string { return "SUPERVISOR_STATE_CHANGE_RUNNING" }

// SupervisorStopping is published once when a shutdown or reload begins.
type SupervisorStopping struct{}

func (SupervisorStopping) Name() string { return "SUPERVISOR_STATE_CHANGE_STOPPING" }
