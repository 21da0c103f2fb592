// Package proctree reads the process table from /proc and sums the resident
// memory of a process and all its descendants, for Drover's memory_limit.
// One Read serves every process checked in a sampling round.
package proctree
