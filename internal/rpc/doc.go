// Package rpc serves supervisord's HTTP interface: the XML-RPC API of
// Supervisor 4.2 (the supervisor.* and system.* namespaces) on POST /RPC2*,
// the log tail streams /logtail/<namespec> and /mainlogtail, the health
// check /ok.html and a minimal status page with Supervisor's action URLs.
// Register puts these routes on the daemon's httpmux.Mux, which applies the
// servers' HTTP Basic authentication.
package rpc
