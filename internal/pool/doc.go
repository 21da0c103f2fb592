// Package pool runs the worker pools of program groups on top of the
// supervisor core: each pool's scaler (a queue sample, autoscale.Decide,
// growing and shrinking the group), rolling restarts and rolling updates,
// run-time size bounds (drover.setPoolBounds), and the tracking of
// Laravel's job lines that tells busy workers from idle ones.
package pool
