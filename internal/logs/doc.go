// Package logs owns Drover's log files: the main log (supervisord's own
// lines, with levels, rotation, stdout copy and syslog), the child log files
// that receive process output (rotation, ANSI stripping, special files),
// AUTO log naming and cleanup in childlogdir, and reading logs back the way
// Supervisor's readLog, tailProcessStdoutLog and /logtail do.
package logs
