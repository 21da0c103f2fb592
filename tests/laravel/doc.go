// Package laravel holds Drover's end-to-end tests with the real Laravel
// queue workload (issue 4): the program of the Laravel how-to
// (docs/laravel.md), verbatim, supervised by the drover binary against a
// real redis-server and the Laravel 8 fixture in
// ../shared/fixtures/laravel-app, controlled with both drover's
// supervisorctl and Debian's Python supervisorctl.
//
// The tests need root (the workers run as www-data), php with the fixture's
// packages and redis-server; without php or redis-server they skip.
// DROVER_LARAVEL_REFERENCE=python runs the same tests against Debian's
// Python supervisord instead of drover, to compare (not used in CI).
// DROVER_LARAVEL_APP overrides the fixture's folder; DROVER_BIN names a
// drover binary to use instead of building one.
package laravel
