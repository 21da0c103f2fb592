// Package daemon is supervisord's entry point: it parses the command line,
// loads the configuration, drops privileges, raises rlimits, opens the main
// log and the HTTP servers, daemonizes, writes the pidfile, turns signals
// into shutdown, reload and log-reopen requests, and runs the supervisor
// until it exits, reloading it in place on SIGHUP or an RPC restart.
//
// # Startup
//
// [Main] follows Supervisor 4.2.5's order (spec §8.2), so the same errors
// come first and the main log reads the same: config, setuid, rlimits, main
// log (with the parse-time notes), AUTO log cleanup, sockets, daemonize,
// pidfile, "supervisord started with pid N", then the supervision loop.
// Every error before the loop is a usage error: "Error: <msg>", "For help,
// use <argv0> -h", exit status 2.
//
// # Daemonizing
//
// Go cannot fork, so without -n the process re-runs itself in a new session
// with a pipe on fd 3 (see daemonize.go). The child does the whole startup
// with the terminal's stdout and stderr, so socket and privilege errors still
// reach the invoking shell with status 2; once its sockets listen and its
// pidfile is written it points stdio at /dev/null and reports, and only then
// does the parent exit 0.
//
// # Reloads
//
// A reload (SIGHUP or supervisor.restart) stops every program, closes the
// servers, unlinks the sockets and the pidfile, re-reads the same file with
// the same command-line overrides and starts over in the same process. A
// config that no longer loads ends the daemon with status 2.
package daemon
