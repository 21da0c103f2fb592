// Package lint owns `drover check`: it loads a supervisord configuration as
// the daemon would and flags the settings that lose or duplicate queue jobs
// (Laravel queue:work and Horizon workers stopped too early, job timeouts
// that outlast retry_after, non-graceful stop signals, workers that are not
// restarted) and shared log files that numprocs processes rotate under each
// other. Each finding names the file and line, the program and a fix.
package lint
