// Package version holds the versions Drover reports: its own build, and the
// Supervisor version it is compatible with (what supervisord -v and the
// XML-RPC getSupervisorVersion answer, because clients check it).
package version

// Supervisor is the Supervisor release whose behaviour Drover reproduces.
const Supervisor = "4.2.5"

// API is the XML-RPC API version (getAPIVersion).
const API = "3.0"

// Build is Drover's own version, set at link time by the Makefile.
var Build = "dev"
