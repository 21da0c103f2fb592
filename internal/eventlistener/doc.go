// Package eventlistener runs Supervisor's event listener pools
// ([eventlistener:x]): it turns bus events into Supervisor's event payloads,
// numbers them (global and per-pool serials), buffers them per pool, and
// speaks the listener protocol (READY, RESULT) over each listener's
// stdin/stdout. It also owns the output side of events: capture mode
// (PROCESS_COMMUNICATION), PROCESS_LOG events and the TICK clock.
package eventlistener
