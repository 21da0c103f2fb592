package process

// State is a process state with Supervisor's wire codes.
type State int

const (
	Stopped  State = 0
	Starting State = 10
	Running  State = 20
	Backoff  State = 30
	Stopping State = 40
	Exited   State = 100
	Fatal    State = 200
	Unknown  State = 1000
)

// String returns Supervisor's state name, e.g. "RUNNING".
func (s State) String() string {
	switch s {
	case Stopped:
		return "STOPPED"
	case Starting:
		return "STARTING"
	case Running:
		return "RUNNING"
	case Backoff:
		return "BACKOFF"
	case Stopping:
		return "STOPPING"
	case Exited:
		return "EXITED"
	case Fatal:
		return "FATAL"
	}
	return "UNKNOWN"
}

// IsStopped reports whether s is one of Supervisor's STOPPED_STATES.
func (s State) IsStopped() bool {
	return s == Stopped || s == Exited || s == Fatal || s == Unknown
}

// IsRunning reports whether s is one of Supervisor's RUNNING_STATES.
func (s State) IsRunning() bool {
	return s == Starting || s == Running || s == Backoff
}

// IsSignallable reports whether a signal may be sent in state s.
func (s State) IsSignallable() bool {
	return s == Starting || s == Running || s == Stopping
}
