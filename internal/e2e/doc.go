// Package e2e holds Drover's end-to-end tests: testscript scripts
// (testdata/*.txtar) that run the real drover entry point as supervisord,
// supervisorctl and drover, with real child processes, and, when Debian's
// supervisor package is installed, drive the daemon with the real Python
// supervisorctl.
package e2e
