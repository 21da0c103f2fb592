// Package conformance is a differential tester: it generates random, valid
// configurations and sequences of supervisorctl commands, runs each case
// against Debian's Supervisor 4.2.5 (/usr/bin/supervisord) and against
// Drover side by side, both driven by Debian's supervisorctl, and reports
// every difference in command output, exit status, settled `status`, the
// state lines of the main log and the order of the start-up's spawns, with
// a shrunk reproduction.
// docs/conformance.md says how to run it.
//
// What it does not compare, because it is timing (Supervisor polls once a
// second, Drover uses exact timers; see README "Compatibility"):
//   - states are compared only once settled (no STARTING, BACKOFF or
//     STOPPING, no RUNNING process that will exit, no EXITED one that
//     autorestart will start again, nothing changing for 1.5 s);
//   - state lines are compared per process (their interleaving across
//     processes is timing), spawn errors per program, and of the shutdown's
//     throttled "waiting for ... to die" reports only the first;
//   - "waiting for x to stop" progress lines are not compared;
//   - the result lines of start/stop/restart/signal/clear of `all` or
//     `group:*` come in completion order, so they are compared sorted;
//   - pids, uptimes, dates, the case directory and AUTO log names are
//     normalised;
//   - a "success:" line of startsecs=0 right before an "exited:" line is
//     dropped (Supervisor logs it only if its poll ran in between);
//   - a case that differs is run again, and counts only if it differs
//     again: on a loaded machine Supervisor's poll can be held back past a
//     startsecs or stopwaitsecs boundary.
//
// The generator keeps cases clear of the poll: builtin-only scripts,
// startsecs 0 or 2, slow exits after 5 s, startsecs=0 for a program that
// exits leaving a child on its stdout, a short stopwaitsecs only for a
// program that ignores its stopsignal, no endless restart loops, tail byte
// counts that do not cut the case directory's name. A run in which a
// program that exits at once stayed up past startsecs is run again.
package conformance
