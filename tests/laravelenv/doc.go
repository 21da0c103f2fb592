// Package laravelenv owns the test environment shared by the Laravel
// end-to-end suites (tests/laravel, tests/autoscale): their prerequisites and
// the Laravel fixture, the drover binary under test, a throwaway redis-server,
// the app's environment and artisan commands, and the job log the fixture's
// jobs write.
package laravelenv
