// Package client is the one XML-RPC client of the daemon (Drover's or
// Supervisor's supervisord): a Client over a unix socket or HTTP with basic
// auth, context-first typed calls (AllProcessInfo, Start, Pools, ...), Call
// for the rest, faults as *Fault usable with errors.Is and errors.As, and the
// /logtail streams. ctl, the end-to-end and Laravel suites and tools/bench
// all talk to the daemon through it; internal/xmlrpc is its codec.
package client
