// Package proctree reads the process table from /proc and sums the resident
// memory and CPU time of a process and all its descendants, for Drover's
// memory_limit and its metrics. Read reads every process on the machine;
// a Sampler reads only the daemon's tree, through stat files it keeps
// open, and shares each reading between the scrapes and the dashboard.
package proctree
