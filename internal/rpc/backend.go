package rpc

import (
	"context"
	"syscall"

	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/pool"
	"github.com/drover/drover/internal/process"
	"github.com/drover/drover/internal/supervisor"
)

// backend is the part of the Supervisor the handlers use; tests substitute a
// fake for it.
type backend interface {
	Mood() supervisor.Mood
	Lookup(namespec string) (procs []proc, wildcard bool, err error)
	HasGroup(name string) bool
	AllProcesses() []proc        // by group name, then process name
	ProcessesByPriority() []proc // order of the "all" operations
	PendingConfig() *config.Config
	Reread() (added, changed, removed []string, err error)
	AddGroup(ctx context.Context, name string) error
	RemoveGroup(ctx context.Context, name string) error
	Shutdown()
	Restart() error
}

// proc is one supervised process as the handlers see it.
type proc interface {
	Namespec() string
	Config() *config.Process
	// ConfigAsRead is the config the pending config holds (by identity)
	// until a reread, where Config may be a resolved copy.
	ConfigAsRead() *config.Process
	Info() process.Info
	Start(ctx context.Context, wait bool) error
	Stop(ctx context.Context, wait bool) error
	Signal(sig syscall.Signal) error
	WriteStdin(p []byte) error
	StdoutLogPath() string
	StderrLogPath() string
	// StdoutLogFile and StderrLogFile are the paths for a reader: an
	// AUTO file is created first if it was not yet.
	StdoutLogFile() string
	StderrLogFile() string
	ClearLogs() error
}

// supervisorBackend adapts *supervisor.Supervisor to backend.
type supervisorBackend struct{ *supervisor.Supervisor }

// pooledBackend is a supervisorBackend with worker pools: a droverBackend.
type pooledBackend struct {
	supervisorBackend
	*pool.Pools
}

// newBackend returns the backend of opts: with the drover.* methods when
// it has Pools.
func newBackend(opts Options) backend {
	b := supervisorBackend{opts.Supervisor}
	if opts.Pools == nil {
		return b
	}
	return pooledBackend{b, opts.Pools}
}

func (b supervisorBackend) Lookup(namespec string) ([]proc, bool, error) {
	ps, wildcard, err := b.Supervisor.Lookup(namespec)
	return procs(ps), wildcard, err
}

func (b supervisorBackend) HasGroup(name string) bool { return b.Group(name) != nil }
func (b supervisorBackend) AllProcesses() []proc      { return procs(b.Supervisor.AllProcesses()) }
func (b supervisorBackend) ProcessesByPriority() []proc {
	return procs(b.Supervisor.ProcessesByPriority())
}

func procs(ps []*supervisor.Process) []proc {
	out := make([]proc, len(ps))
	for i, p := range ps {
		out[i] = supervisedProc{p}
	}
	return out
}

type supervisedProc struct{ *supervisor.Process }

func (p supervisedProc) Namespec() string { return p.Process.Namespec }

// Start is a client's start: when the process has run before, a manual restart.
func (p supervisedProc) Start(ctx context.Context, wait bool) error {
	return p.StartFor(ctx, wait, supervisor.RestartManual)
}
