// Package probe runs Drover's readiness checks (config.Check): a TCP
// connect, an HTTP GET answering 2xx, a Redis PING answering PONG, or a
// command exiting 0. The supervisor's start gates (depends_on, wait_for,
// ready_check) call Run; it keeps no state.
package probe
