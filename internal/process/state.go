package process

import "github.com/drover/drover/internal/wire"

// State is a process state; its codes and names are the wire protocol's.
type State = wire.ProcessState

// The states under the short names the state machine reads best with.
const (
	Stopped  = wire.ProcessStopped
	Starting = wire.ProcessStarting
	Running  = wire.ProcessRunning
	Backoff  = wire.ProcessBackoff
	Stopping = wire.ProcessStopping
	Exited   = wire.ProcessExited
	Fatal    = wire.ProcessFatal
	Unknown  = wire.ProcessUnknown
)
