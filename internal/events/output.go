package events

import "strings"

// ProcessLog is published for each chunk a child writes on a channel whose
// stdout_events_enabled / stderr_events_enabled is set.
type ProcessLog struct {
	Process, Group string
	PID            int
	Channel        string // "stdout" or "stderr"
	Data           []byte // the chunk as read, not split into lines
}

func (e ProcessLog) Name() string { return "PROCESS_LOG_" + strings.ToUpper(e.Channel) }

// ProcessCommunication is published when a child in capture mode writes
// <!--XSUPERVISOR:END-->: Data is what it wrote since <!--XSUPERVISOR:BEGIN-->.
type ProcessCommunication struct {
	Process, Group string
	PID            int
	Channel        string // "stdout" or "stderr"
	Data           []byte
}

func (e ProcessCommunication) Name() string {
	return "PROCESS_COMMUNICATION_" + strings.ToUpper(e.Channel)
}

// Tick is published when the wall clock enters a new period: TICK_5, TICK_60, TICK_3600.
type Tick struct {
	Period int   // seconds: 5, 60 or 3600
	When   int64 // the period's start, Unix seconds
}

func (e Tick) Name() string {
	switch e.Period {
	case 5:
		return "TICK_5"
	case 60:
		return "TICK_60"
	}
	return "TICK_3600"
}
