// Package proctree reads the daemon's process tree from /proc and sums the
// resident memory and CPU time of a process and all its descendants, for
// Drover's memory_limit, its metrics and its dashboard. A Sampler reads
// only the daemon and its descendants, through stat files it keeps open,
// and shares each reading between its readers for a while.
package proctree
