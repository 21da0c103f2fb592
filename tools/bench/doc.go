// Command bench runs Drover and Debian's Python supervisord side by side on
// generated configurations and reports medians, min/max and the ratio
// supervisord/Drover for each measure of issues 5 and 15 (see
// docs/benchmark.md). Any other supervisord-compatible daemon can run
// beside them (--peer), with a ratio column of its own.
//
// Both daemons are driven the same way: launched as `supervisord -n -c FILE`
// (Drover through a symlink named supervisord), spoken to over XML-RPC on the
// unix socket, and observed through /proc. Runs are interleaved A B A B so
// that machine drift cancels. The command starts, and kills, only processes
// it started itself.
//
// The same binary doubles as the benchmark's child programs: `bench
// write-pattern` and `bench chatty` are the log writers the generated
// configurations run.
package main
