package supervisor

import (
	"errors"
	"slices"
	"testing"

	"github.com/drover/drover/internal/config"
)

func TestReread(t *testing.T) {
	dir := t.TempDir()
	auto := func(g *config.Group) *config.Group {
		for _, p := range g.Processes {
			p.Stdout = config.ChildLog{Kind: config.LogAuto, MaxBytes: 1024, Backups: 2}
			p.Stderr = config.ChildLog{Kind: config.LogAuto, MaxBytes: 1024, Backups: 2}
		}
		return g
	}
	active := configOf(dir,
		auto(program("same", 1, 2)),
		program("gone", 2, 1),
		program("prio", 3, 1),
		program("numprocs", 4, 2),
		program("cmd", 5, 1),
		heterogeneous("grp", 6, proc("", "a", 1), proc("", "b", 2)),
		program("old", 7, 1),
	)
	s := newSupervisor(t, active, Options{})

	changedCmd := program("cmd", 5, 1, "/bin/echo")
	changedMember := heterogeneous("grp", 6, proc("", "a", 1), proc("", "b", 2, "/bin/echo"))
	pending := configOf(dir,
		program("new2", 0, 1),
		auto(program("same", 1, 2)),
		program("prio", 30, 1),
		program("numprocs", 4, 3),
		changedCmd,
		changedMember,
		program("new1", 8, 1),
	)
	loads := []func() (*config.Config, error){
		func() (*config.Config, error) { return nil, errors.New("parse error") },
		func() (*config.Config, error) { return pending, nil },
	}
	s.opts.Load = func() (*config.Config, error) {
		load := loads[0]
		loads = loads[1:]
		return load()
	}

	if _, _, _, err := s.Reread(); err == nil || err.Error() != "parse error" {
		t.Fatalf("Reread() error = %v, want the load error", err)
	}
	if s.PendingConfig() != active {
		t.Fatalf("failed Reread replaced the pending config")
	}

	added, changed, removed, err := s.Reread()
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"new2", "new1"}; !slices.Equal(added, want) {
		t.Errorf("added = %v, want %v", added, want)
	}
	if want := []string{"prio", "numprocs", "cmd", "grp"}; !slices.Equal(changed, want) {
		t.Errorf("changed = %v, want %v", changed, want)
	}
	if want := []string{"gone", "old"}; !slices.Equal(removed, want) {
		t.Errorf("removed = %v, want %v", removed, want)
	}
	if s.PendingConfig() != pending {
		t.Errorf("Reread did not replace the pending config")
	}
	// The AUTO group is unchanged although its runners log to real files,
	// which their Info reports.
	same := s.Group("same")
	for _, p := range same.Processes {
		if p.StdoutLogPath() == "" || p.Info().StdoutLog != p.StdoutLogPath() {
			t.Errorf("%s: stdout log %q, info %q", p.Namespec, p.StdoutLogPath(), p.Info().StdoutLog)
		}
		if p.Config().Stdout.Path != "" {
			t.Errorf("%s: the runner's config was given the AUTO path %q", p.Namespec, p.Config().Stdout.Path)
		}
	}
	if same.Config.Processes[0].Stdout.Path != "" {
		t.Errorf("the group's config was given the AUTO path %q", same.Config.Processes[0].Stdout.Path)
	}
}

func TestRereadShuttingDown(t *testing.T) {
	s := New(configOf(t.TempDir()), Options{Load: func() (*config.Config, error) {
		t.Error("Load called during shutdown")
		return nil, nil
	}})
	s.Shutdown()
	if _, _, _, err := s.Reread(); !errors.Is(err, ErrShuttingDown) {
		t.Errorf("Reread() during shutdown = %v, want ErrShuttingDown", err)
	}
}
