// Package wire holds the tables of the daemon's XML-RPC protocol that both
// ends need: fault codes and their names, process and supervisor state codes
// and their names. It is a leaf: the server (rpc, process, supervisor) and
// the client (client, ctl) import it, so each code is written down once.
package wire
