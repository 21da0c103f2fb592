// Package health answers machines asking whether the daemon is well: the
// open liveness probe /healthz, the readiness probe /readyz (every process
// that ready_required or autostart names is RUNNING past its startsecs),
// /api/pools, the pool and queue figures as JSON for autoscalers such as
// KEDA's metrics-api scaler, and the client side of `drover healthcheck`.
package health
