package rpc

import (
	"errors"

	"github.com/drover/drover/internal/logs"
	"github.com/drover/drover/internal/pool"
	"github.com/drover/drover/internal/process"
	"github.com/drover/drover/internal/supervisor"
	"github.com/drover/drover/internal/wire"
	"github.com/drover/drover/internal/xmlrpc"
)

// newFault builds the fault code carries, its text "NAME" or "NAME: extra".
func newFault(code int, extra ...string) *xmlrpc.Fault {
	return &xmlrpc.Fault{Code: code, String: wire.FaultText(code, extra...)}
}

// toFault is the one place where errors of the engine become faults. name is
// the namespec (or group name) the call was about; Supervisor puts it into
// most fault texts. Errors nobody anticipated become FAILED.
func toFault(err error, name string) *xmlrpc.Fault {
	var (
		fault     *xmlrpc.Fault
		spawnErr  *process.SpawnError
		rereadErr *rereadError
	)
	switch {
	case errors.As(err, &fault):
		return fault
	case errors.As(err, &rereadErr):
		return newFault(wire.FaultCantReread, rereadErr.err.Error())
	case errors.As(err, &spawnErr):
		switch spawnErr.Kind {
		case process.SpawnNoFile:
			return newFault(wire.FaultNoFile, spawnErr.Msg)
		case process.SpawnNotExecutable:
			return newFault(wire.FaultNotExecutable, spawnErr.Msg)
		}
		return newFault(wire.FaultSpawnError, name)
	case errors.Is(err, process.ErrAlreadyStarted):
		return newFault(wire.FaultAlreadyStarted, name)
	case errors.Is(err, process.ErrNotRunning):
		return newFault(wire.FaultNotRunning, name)
	case errors.Is(err, process.ErrAbnormalTermination):
		return newFault(wire.FaultAbnormalTermination, name)
	case errors.Is(err, process.ErrUnknownState):
		return newFault(wire.FaultFailed, name+" is in an unknown process state")
	case errors.Is(err, process.ErrStdinClosed):
		return newFault(wire.FaultNoFile, name)
	case errors.Is(err, process.ErrStdinFull):
		return newFault(wire.FaultFailed, name+": "+err.Error())
	case errors.Is(err, supervisor.ErrBadName):
		return newFault(wire.FaultBadName, name)
	case errors.Is(err, supervisor.ErrAlreadyAdded):
		return newFault(wire.FaultAlreadyAdded, name)
	case errors.Is(err, supervisor.ErrStillRunning):
		return newFault(wire.FaultStillRunning, name)
	case errors.Is(err, pool.ErrNotRollable):
		// err reads "cannot roll: <reason>", the detail clients expect.
		return newFault(wire.FaultCannotRoll, err.Error())
	case errors.Is(err, pool.ErrBadBounds):
		return newFault(wire.FaultBadArguments, err.Error())
	case errors.Is(err, supervisor.ErrShuttingDown):
		return newFault(wire.FaultShutdownState)
	case errors.Is(err, logs.ErrNoFile):
		if name == "" {
			return newFault(wire.FaultNoFile)
		}
		return newFault(wire.FaultNoFile, name)
	case errors.Is(err, logs.ErrBadArguments):
		return newFault(wire.FaultBadArguments)
	case errors.Is(err, logs.ErrFailed):
		return newFault(wire.FaultFailed)
	}
	return newFault(wire.FaultFailed, err.Error())
}

// rereadError marks a failure to re-read the configuration (CANT_REREAD).
type rereadError struct{ err error }

func (e *rereadError) Error() string { return "reread config: " + e.err.Error() }
func (e *rereadError) Unwrap() error { return e.err }
