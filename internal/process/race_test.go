//go:build race

package process

// raceBuild is set when the tests run under the race detector, which makes
// a helper child's 4 MiB burst take over 10 s.
const raceBuild = true
