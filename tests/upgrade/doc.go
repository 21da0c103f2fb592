// Package upgrade holds the end-to-end tests of the in-place upgrade's
// failures (issue 17, docs/upgrade.md), with the real binary and no other
// prerequisite: a new image that gives up its take-over (the previous image
// takes the children back) and one that dies (the children get their
// parent-death signal). The upgrade under a Laravel job load is in
// tests/laravel; the package upgrade in packaging.
package upgrade
