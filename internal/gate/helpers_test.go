package gate

import (
	"testing"

	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/supervisor"
	"github.com/drover/drover/internal/supervisor/supervisortest"
)

// newGated returns the Supervisor of cfg with start gates.
func newGated(cfg *config.Config, opts supervisor.Options) *supervisor.Supervisor {
	opts.Hooks.StartGate = New
	return supervisor.New(cfg, opts)
}

var (
	newFakeSpawner = supervisortest.NewFakeSpawner
	program        = supervisortest.Program
	configOf       = supervisortest.ConfigOf
)

func started(t *testing.T, s *supervisor.Supervisor) <-chan bool { return supervisortest.Started(t, s) }

func lookupOne(t *testing.T, s *supervisor.Supervisor, namespec string) *supervisor.Process {
	return supervisortest.LookupOne(t, s.Lookup, namespec)
}
