// Package autoscale owns the scaling policy of Drover's worker pools: a pure
// function from what the queue and the pool look like now to the pool size
// wanted next, with the reason. It does no I/O; internal/supervisor samples
// the queue, calls Decide and resizes the pool.
package autoscale
