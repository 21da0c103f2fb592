// Package proctree reads the process table from /proc and sums the resident
// memory and CPU time of a process and all its descendants, for Drover's
// memory_limit and its metrics. One Read serves every process checked in a
// sampling round or a scrape.
package proctree
