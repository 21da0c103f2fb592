package wire

// ProcessState is a process state with Supervisor's wire code
// (supervisor.states.ProcessStates).
type ProcessState int

const (
	ProcessStopped  ProcessState = 0
	ProcessStarting ProcessState = 10
	ProcessRunning  ProcessState = 20
	ProcessBackoff  ProcessState = 30
	ProcessStopping ProcessState = 40
	ProcessExited   ProcessState = 100
	ProcessFatal    ProcessState = 200
	ProcessUnknown  ProcessState = 1000
)

// String returns Supervisor's state name, e.g. "RUNNING".
func (s ProcessState) String() string {
	switch s {
	case ProcessStopped:
		return "STOPPED"
	case ProcessStarting:
		return "STARTING"
	case ProcessRunning:
		return "RUNNING"
	case ProcessBackoff:
		return "BACKOFF"
	case ProcessStopping:
		return "STOPPING"
	case ProcessExited:
		return "EXITED"
	case ProcessFatal:
		return "FATAL"
	}
	return "UNKNOWN"
}

// IsStopped reports whether s is one of Supervisor's STOPPED_STATES.
func (s ProcessState) IsStopped() bool {
	return s == ProcessStopped || s == ProcessExited || s == ProcessFatal || s == ProcessUnknown
}

// IsRunning reports whether s is one of Supervisor's RUNNING_STATES.
func (s ProcessState) IsRunning() bool {
	return s == ProcessStarting || s == ProcessRunning || s == ProcessBackoff
}

// IsSignallable reports whether a signal may be sent in state s
// (Supervisor's SIGNALLABLE_STATES).
func (s ProcessState) IsSignallable() bool {
	return s == ProcessStarting || s == ProcessRunning || s == ProcessStopping
}

// SupervisorState is supervisord's own state as getState reports it
// (supervisor.states.SupervisorStates; Drover never reports FATAL).
type SupervisorState int

const (
	SupervisorRestarting SupervisorState = 0
	SupervisorRunning    SupervisorState = 1
	SupervisorShutdown   SupervisorState = -1
)

// String returns Supervisor's state name, e.g. "RUNNING".
func (s SupervisorState) String() string {
	switch s {
	case SupervisorRestarting:
		return "RESTARTING"
	case SupervisorRunning:
		return "RUNNING"
	case SupervisorShutdown:
		return "SHUTDOWN"
	}
	return "UNKNOWN"
}
