// Package ctl is Drover's supervisorctl: the command-line and interactive
// client that talks XML-RPC (and the /logtail HTTP endpoints) to a
// supervisord-compatible daemon, reproducing Supervisor 4.2.5's texts,
// column widths, ordering and exit codes.
//
// Beyond Supervisor, `status --json` and `avail --json` print a JSON array
// for scripts; see StatusJSON and AvailJSON for the schema.
package ctl
