package supervisor

import (
	"testing"

	"github.com/drover/drover/internal/supervisor/supervisortest"
)

// The helpers every test of the core shares with the features' tests.
type fakeSpawner = supervisortest.FakeSpawner

var (
	newFakeSpawner = supervisortest.NewFakeSpawner
	proc           = supervisortest.Proc
	program        = supervisortest.Program
	heterogeneous  = supervisortest.Heterogeneous
	configOf       = supervisortest.ConfigOf
	started        = func(t *testing.T, s *Supervisor) <-chan bool { return supervisortest.Started(t, s) }
)

// names returns the namespecs of ps.
func names(ps []*Process) []string {
	var ns []string
	for _, p := range ps {
		ns = append(ns, p.Namespec)
	}
	return ns
}
