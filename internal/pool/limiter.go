package pool

// Limiter shares the growth of scaling pools with something outside the
// daemon (the fleet's leases across nodes). The scaler of each pool asks it
// before starting workers and tells it when it has removed some. A nil
// Limiter sets no limit beyond the pool's own bounds.
//
// A pool starts at its configured numprocs without asking; only what the
// scaler adds is acquired. The scaler never releases more than it holds: a
// shrink below the size it started at releases nothing, and everything it
// still holds is released when the pool's group stops or is removed.
// Both methods are called from the scaler's goroutine, never with a lock of
// the pool held, so they may block briefly (a network round trip) but hold
// up that pool's scaling meanwhile.
type Limiter interface {
	// Acquire asks for n more workers of group and returns how many of
	// them may start, 0 to n.
	Acquire(group string, n int) int
	// Release gives back n workers of group the scaler acquired earlier.
	Release(group string, n int)
}
