// Package cli is the drover binary's entry point: it picks supervisord,
// supervisorctl or drover's own subcommands from argv[0] and argv[1]. It is
// a package (not cmd/drover's main) so the end-to-end tests run exactly the
// dispatch the binary runs.
package cli
