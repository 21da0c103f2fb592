package client

import (
	"errors"
	"fmt"

	"github.com/drover/drover/internal/wire"
)

// Fault is a fault the daemon answered with: a code of internal/wire and
// its text, "NAME" or "NAME: detail".
type Fault struct {
	Code   int
	String string
}

func (f *Fault) Error() string { return fmt.Sprintf("%d: %s", f.Code, f.String) }

// Is matches a fault of the same code, so errors.Is(err, client.ErrBadName)
// holds for every BAD_NAME whatever its detail.
func (f *Fault) Is(target error) bool {
	t, ok := target.(*Fault)
	return ok && t.Code == f.Code
}

// Faults to match with errors.Is.
var (
	ErrUnknownMethod  = &Fault{Code: wire.FaultUnknownMethod}
	ErrShutdownState  = &Fault{Code: wire.FaultShutdownState}
	ErrBadName        = &Fault{Code: wire.FaultBadName}
	ErrNoFile         = &Fault{Code: wire.FaultNoFile}
	ErrFailed         = &Fault{Code: wire.FaultFailed}
	ErrAlreadyStarted = &Fault{Code: wire.FaultAlreadyStarted}
	ErrNotRunning     = &Fault{Code: wire.FaultNotRunning}
	ErrAlreadyAdded   = &Fault{Code: wire.FaultAlreadyAdded}
	ErrStillRunning   = &Fault{Code: wire.FaultStillRunning}
	ErrCantReread     = &Fault{Code: wire.FaultCantReread}
	ErrBadArguments   = &Fault{Code: wire.FaultBadArguments}
	// ErrCannotRoll is a drover.rolling* refusal: the group cannot be
	// replaced beside itself; restart or update it the plain way.
	ErrCannotRoll = &Fault{Code: wire.FaultCannotRoll}
)

// FaultCode returns the code of the fault err is or wraps, 0 for none.
func FaultCode(err error) int {
	var f *Fault
	if errors.As(err, &f) {
		return f.Code
	}
	return 0
}

// FaultString returns the text of the fault err is or wraps, "" for none.
func FaultString(err error) string {
	var f *Fault
	if errors.As(err, &f) {
		return f.String
	}
	return ""
}

// HTTPError is an answer other than 200 OK, e.g. 401 without credentials.
type HTTPError struct {
	Code   int
	Reason string // "Unauthorized"
	Body   string // the start of the answer (at most 64 KiB), e.g. what /readyz lists
}

func (e *HTTPError) Error() string { return fmt.Sprintf("HTTP %d %s", e.Code, e.Reason) }

// URLError is a server URL of a scheme other than unix:// and http://. Its
// text is Supervisor's.
type URLError struct{ URL string }

func (e *URLError) Error() string { return "Unknown protocol for serverurl " + e.URL }
