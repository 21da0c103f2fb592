// Command bench runs Drover and Debian's Python supervisord side by side on
// generated configurations and reports medians, min/max and the ratio
// supervisord/Drover for each measure of issue 5 (see docs/benchmark.md).
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
