// Package container tests the container example (examples/docker): its
// supervisord.conf, verbatim but for its paths, runs under the drover
// binary as PID 1 of a new PID namespace (unshare --pid --fork, what a
// container gives its init) with stand-ins for php-fpm, nginx and artisan;
// the Kubernetes manifest's grace period and preStop command are the ones
// checked and run. The image build itself needs Docker and the network and
// is not run. The tests need root and unshare; without them they skip.
// DROVER_BIN names a drover binary to use instead of building one.
package container
