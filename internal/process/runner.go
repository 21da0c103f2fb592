package process

// CONTRACT STUB: the process engine work replaces these bodies (keep the signatures).

import (
	"context"
	"syscall"

	"github.com/drover/drover/internal/config"
)

// Runner supervises one process: one goroutine (Run) owns its state.
type Runner struct {
	cfg  *config.Process
	opts Options
}

// NewRunner returns a Runner in state STOPPED. It starts no goroutine.
func NewRunner(cfg *config.Process, opts Options) *Runner { return &Runner{cfg: cfg, opts: opts} }

// Run owns the process until ctx is done; on return no child of this Runner is left alive
// (it stops the child as Stop would, then SIGKILL after stopwaitsecs).
func (r *Runner) Run(ctx context.Context) error { panic("unimplemented") }

// Config returns the process configuration.
func (r *Runner) Config() *config.Process { return r.cfg }

// Info returns a snapshot without waiting on Run.
func (r *Runner) Info() Info { panic("unimplemented") }

// Start starts the process. With wait it returns once RUNNING (nil), or with
// *SpawnError (SPAWN_ERROR/NO_FILE/NOT_EXECUTABLE) or ErrAbnormalTermination;
// ErrAlreadyStarted in STARTING/RUNNING/BACKOFF; ErrUnknownState in UNKNOWN.
// Without wait it returns right after the spawn attempt.
func (r *Runner) Start(ctx context.Context, wait bool) error { panic("unimplemented") }

// Stop stops the process (stopsignal, then SIGKILL after stopwaitsecs; BACKOFF → STOPPED at once).
// ErrNotRunning unless STARTING/RUNNING/BACKOFF. With wait it returns once in a stopped state.
func (r *Runner) Stop(ctx context.Context, wait bool) error { panic("unimplemented") }

// StopForShutdown is Stop as supervisord's stop_all does it: BACKOFF → FATAL.
func (r *Runner) StopForShutdown(ctx context.Context, wait bool) error { panic("unimplemented") }

// Signal sends sig to the process (not its group). ErrNotRunning unless STARTING/RUNNING/STOPPING.
func (r *Runner) Signal(sig syscall.Signal) error { panic("unimplemented") }

// WriteStdin writes p to the child's stdin. ErrNotRunning without a live child
// (or while stopping); ErrStdinClosed on EPIPE.
func (r *Runner) WriteStdin(p []byte) error { panic("unimplemented") }
