// Package web owns Drover's live dashboard: the page and its assets built
// into the binary, the Server-Sent Events stream of the daemon's state
// (coalesced, with a bounded queue per browser), the log view, and the
// actions, which it runs through the daemon's own XML-RPC methods. It reads
// the supervisor's Snapshot, woken by a bounded event subscription, and
// acts through the narrow Actions interface.
package web
