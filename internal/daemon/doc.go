// Package daemon is supervisord's entry point: it parses the command line,
// loads the configuration, drops privileges, raises rlimits, opens the main
// log and the HTTP servers, daemonizes, writes the pidfile, turns signals
// into shutdown, reload and log-reopen requests, and runs the supervisor
// until it exits, reloading it in place on SIGHUP or an RPC restart.
package daemon
