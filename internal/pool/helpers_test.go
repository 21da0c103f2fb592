package pool

import (
	"testing"

	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/events"
	"github.com/drover/drover/internal/process"
	"github.com/drover/drover/internal/queue"
	"github.com/drover/drover/internal/supervisor"
	"github.com/drover/drover/internal/supervisor/supervisortest"
)

// Supervisor is what the tests drive: the core with the pools bound, so
// that both answer (s.Lookup, s.WorkerPools, s.RollingRestart, ...).
type Supervisor struct {
	*supervisor.Supervisor
	*Pools
}

// pooledOptions are the core's options the tests set, and the pools' queues.
type pooledOptions struct {
	Spawner process.Spawner
	Log     process.Logger
	Events  *events.Bus
	Load    func() (*config.Config, error)
	Queues  func(config.QueueSource) queue.Source
	Adopt   map[string]supervisor.Adopted // what an upgrade handed over
}

// newPooled returns the Supervisor of cfg with worker pools.
func newPooled(cfg *config.Config, opts pooledOptions) *Supervisor {
	m := New(Options{Queues: opts.Queues})
	s := supervisor.New(cfg, supervisor.Options{Spawner: opts.Spawner, Log: opts.Log, Events: opts.Events,
		Load: opts.Load, Hooks: m.Hooks(supervisor.Hooks{}), Adopt: opts.Adopt})
	m.Bind(s)
	return &Supervisor{s, m}
}

type (
	Process       = supervisor.Process
	RestartCounts = supervisor.RestartCounts
	JobCounts     = supervisor.JobCounts
	lines         = supervisortest.Lines
)

const (
	RestartCrash   = supervisor.RestartCrash
	RestartManual  = supervisor.RestartManual
	RestartRolling = supervisor.RestartRolling
)

var (
	ErrBadName     = supervisor.ErrBadName
	newFakeSpawner = supervisortest.NewFakeSpawner
	program        = supervisortest.Program
	configOf       = supervisortest.ConfigOf
)

func started(t *testing.T, s *Supervisor) <-chan bool { return supervisortest.Started(t, s) }
