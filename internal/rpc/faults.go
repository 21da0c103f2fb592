package rpc

import (
	"errors"

	"github.com/drover/drover/internal/logs"
	"github.com/drover/drover/internal/process"
	"github.com/drover/drover/internal/supervisor"
	"github.com/drover/drover/internal/xmlrpc"
)

// Supervisor's fault codes.
const (
	faultUnknownMethod        = 1
	faultIncorrectParameters  = 2
	faultBadArguments         = 3
	faultSignatureUnsupported = 4
	faultShutdownState        = 6
	faultBadName              = 10
	faultBadSignal            = 11
	faultNoFile               = 20
	faultNotExecutable        = 21
	faultFailed               = 30
	faultAbnormalTermination  = 40
	faultSpawnError           = 50
	faultAlreadyStarted       = 60
	faultNotRunning           = 70
	faultSuccess              = 80
	faultAlreadyAdded         = 90
	faultStillRunning         = 91
	faultCantReread           = 92
)

var faultNames = map[int]string{
	faultUnknownMethod:        "UNKNOWN_METHOD",
	faultIncorrectParameters:  "INCORRECT_PARAMETERS",
	faultBadArguments:         "BAD_ARGUMENTS",
	faultSignatureUnsupported: "SIGNATURE_UNSUPPORTED",
	faultShutdownState:        "SHUTDOWN_STATE",
	faultBadName:              "BAD_NAME",
	faultBadSignal:            "BAD_SIGNAL",
	faultNoFile:               "NO_FILE",
	faultNotExecutable:        "NOT_EXECUTABLE",
	faultFailed:               "FAILED",
	faultAbnormalTermination:  "ABNORMAL_TERMINATION",
	faultSpawnError:           "SPAWN_ERROR",
	faultAlreadyStarted:       "ALREADY_STARTED",
	faultNotRunning:           "NOT_RUNNING",
	faultSuccess:              "SUCCESS",
	faultAlreadyAdded:         "ALREADY_ADDED",
	faultStillRunning:         "STILL_RUNNING",
	faultCantReread:           "CANT_REREAD",
}

// newFault builds Supervisor's fault text: "NAME" or "NAME: extra".
func newFault(code int, extra ...string) *xmlrpc.Fault {
	text, ok := faultNames[code]
	if !ok {
		text = "UNKNOWN"
	}
	if len(extra) > 0 {
		text += ": " + extra[0]
	}
	return &xmlrpc.Fault{Code: code, String: text}
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
		return newFault(faultCantReread, rereadErr.err.Error())
	case errors.As(err, &spawnErr):
		switch spawnErr.Kind {
		case process.SpawnNoFile:
			return newFault(faultNoFile, spawnErr.Msg)
		case process.SpawnNotExecutable:
			return newFault(faultNotExecutable, spawnErr.Msg)
		}
		return newFault(faultSpawnError, name)
	case errors.Is(err, process.ErrAlreadyStarted):
		return newFault(faultAlreadyStarted, name)
	case errors.Is(err, process.ErrNotRunning):
		return newFault(faultNotRunning, name)
	case errors.Is(err, process.ErrAbnormalTermination):
		return newFault(faultAbnormalTermination, name)
	case errors.Is(err, process.ErrUnknownState):
		return newFault(faultFailed, name+" is in an unknown process state")
	case errors.Is(err, process.ErrStdinClosed):
		return newFault(faultNoFile, name)
	case errors.Is(err, process.ErrStdinFull):
		return newFault(faultFailed, name+": "+err.Error())
	case errors.Is(err, supervisor.ErrBadName):
		return newFault(faultBadName, name)
	case errors.Is(err, supervisor.ErrAlreadyAdded):
		return newFault(faultAlreadyAdded, name)
	case errors.Is(err, supervisor.ErrStillRunning):
		return newFault(faultStillRunning, name)
	case errors.Is(err, supervisor.ErrShuttingDown):
		return newFault(faultShutdownState)
	case errors.Is(err, logs.ErrNoFile):
		if name == "" {
			return newFault(faultNoFile)
		}
		return newFault(faultNoFile, name)
	case errors.Is(err, logs.ErrBadArguments):
		return newFault(faultBadArguments)
	case errors.Is(err, logs.ErrFailed):
		return newFault(faultFailed)
	}
	return newFault(faultFailed, err.Error())
}

// rereadError marks a failure to re-read the configuration (CANT_REREAD).
type rereadError struct{ err error }

func (e *rereadError) Error() string { return "reread config: " + e.err.Error() }
func (e *rereadError) Unwrap() error { return e.err }
