// Package web owns Drover's live dashboard: the page and its assets built
// into the binary, the Server-Sent Events stream of the daemon's state
// (coalesced, with a bounded queue per browser), the log view, and the
// actions, which it runs through the daemon's own XML-RPC methods. What it
// reads and does comes through the narrow Source interface.
package web
