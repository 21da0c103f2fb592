package pool

import "errors"

// ErrBadBounds refuses run-time pool bounds (SetPoolBounds): min above
// max, min below 1, max beyond numprocs_max (the pool has no process
// numbers beyond it), or a pool that does not scale; rpc answers
// BAD_ARGUMENTS.
var ErrBadBounds = errors.New("bad pool bounds")
