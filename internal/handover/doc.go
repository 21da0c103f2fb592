// Package handover upgrades the daemon in place: the running image execs
// the binary now on disk, in the same process, and hands it every child
// (pid, pipes, state, timers) and every listening socket, so no program
// restarts and no client sees a refused connection.
//
// The state travels as versioned JSON in a memfd whose descriptor, like
// every descriptor handed over, survives execve; DROVER_HANDOVER_FD names
// it to the new image. Before the switch the old image runs the new binary
// with --check-handover on a draft of the state (Check), and refuses the
// upgrade when that fails. If the new image finds something wrong before it
// has adopted a child, it execs the previous image back (kept open as a
// descriptor) with the same state. See docs/upgrade.md.
package handover
