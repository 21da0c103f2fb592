// Package ctl is Drover's supervisorctl: the command-line and interactive
// client of a supervisord-compatible daemon over unix:// or http:// (XML-RPC
// and the /logtail, /mainlogtail streams, all through internal/client),
// reproducing Supervisor 4.2.5's option parsing, texts, column widths,
// ordering and exit codes (including the traceback-style error lines).
//
// Main and Run are the entry points: cmd/drover calls Main when invoked as
// supervisorctl or as `drover ctl`. With an action the command runs once
// and its exit status is returned; without one (or with -i and no action)
// an interactive shell starts, with line editing, history (-r) and Tab
// completion when stdin is a terminal, plain line reading otherwise.
//
// Beyond Supervisor, `status --json [names...]` and `avail --json` print a
// JSON array (schema: StatusJSON, AvailJSON) instead of the table; unknown
// names then go to stderr, and exit statuses are unchanged.
package ctl
