package wire

// Fault codes. Supervisor's own (supervisor.xmlrpc.Faults) stay below 1000;
// Drover's extensions take 1000 and up, so a Supervisor release adding a code
// cannot collide with them. docs/rpc.md lists Drover's.
const (
	FaultUnknownMethod        = 1
	FaultIncorrectParameters  = 2
	FaultBadArguments         = 3
	FaultSignatureUnsupported = 4
	FaultShutdownState        = 6
	FaultBadName              = 10
	FaultBadSignal            = 11
	FaultNoFile               = 20
	FaultNotExecutable        = 21
	FaultFailed               = 30
	FaultAbnormalTermination  = 40
	FaultSpawnError           = 50
	FaultAlreadyStarted       = 60
	FaultNotRunning           = 70
	FaultSuccess              = 80
	FaultAlreadyAdded         = 90
	FaultStillRunning         = 91
	FaultCantReread           = 92

	// FaultCannotRoll refuses a drover.rollingRestart/rollingUpdate of a
	// group that cannot be replaced beside itself.
	FaultCannotRoll = 1001
)

// faultNames maps each code to the name its fault text starts with. A new
// fault is one constant above and one line here.
var faultNames = map[int]string{
	FaultUnknownMethod:        "UNKNOWN_METHOD",
	FaultIncorrectParameters:  "INCORRECT_PARAMETERS",
	FaultBadArguments:         "BAD_ARGUMENTS",
	FaultSignatureUnsupported: "SIGNATURE_UNSUPPORTED",
	FaultShutdownState:        "SHUTDOWN_STATE",
	FaultBadName:              "BAD_NAME",
	FaultBadSignal:            "BAD_SIGNAL",
	FaultNoFile:               "NO_FILE",
	FaultNotExecutable:        "NOT_EXECUTABLE",
	FaultFailed:               "FAILED",
	FaultAbnormalTermination:  "ABNORMAL_TERMINATION",
	FaultSpawnError:           "SPAWN_ERROR",
	FaultAlreadyStarted:       "ALREADY_STARTED",
	FaultNotRunning:           "NOT_RUNNING",
	FaultSuccess:              "SUCCESS",
	FaultAlreadyAdded:         "ALREADY_ADDED",
	FaultStillRunning:         "STILL_RUNNING",
	FaultCantReread:           "CANT_REREAD",
	// The text of a refused roll predates its code and clients read it:
	// it stays "FAILED: cannot roll: <reason>".
	FaultCannotRoll: "FAILED",
}

// FaultName returns the name a fault text with code starts with, e.g.
// "BAD_NAME", or "UNKNOWN" for a code this table does not know.
func FaultName(code int) string {
	if name, ok := faultNames[code]; ok {
		return name
	}
	return "UNKNOWN"
}

// FaultText builds Supervisor's fault text: "NAME" or "NAME: detail".
func FaultText(code int, detail ...string) string {
	text := FaultName(code)
	if len(detail) > 0 {
		text += ": " + detail[0]
	}
	return text
}

// CannotRollPrefix starts the detail of every FaultCannotRoll text.
const CannotRollPrefix = "cannot roll: "
