// Package autoscale runs Drover's worker pools end to end: the real
// drover binary, a throwaway redis-server on a free loopback port and the
// Laravel 8 fixture app (../shared/fixtures/laravel-app, or
// DROVER_LARAVEL_APP) as the workload. It checks that a burst of jobs grows
// a pool toward numprocs_max and the drained queue shrinks it back, and that
// rolling restarts and rolling updates keep the configured capacity
// RUNNING, with every job run exactly once.
package autoscale
