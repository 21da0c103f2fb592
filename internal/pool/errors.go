package pool

import (
	"errors"

	"github.com/drover/drover/internal/supervisor"
)

// ErrBadBounds refuses run-time pool bounds (SetPoolBounds): min above
// max, min below 1, max beyond numprocs_max (the pool has no process
// numbers beyond it), or a pool that does not scale; rpc answers
// BAD_ARGUMENTS.
var ErrBadBounds = errors.New("bad pool bounds")

// errDeciding refuses to hold a pool while its scaler decides, which lasts
// a moment (supervisor.ErrHoldBusy: an upgrade's freeze tries again).
var errDeciding error = momentary("a scaling decision is in progress")

// momentary is a refusal that lasts a moment.
type momentary string

func (m momentary) Error() string { return string(m) }

func (momentary) Is(target error) bool { return target == supervisor.ErrHoldBusy }
