package supervisor

import (
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/guard"
	"github.com/drover/drover/internal/process"
)

// panickySpawner is the real spawner whose children of one process panic
// on their first stop signal: a bug in one runner's path.
type panickySpawner struct {
	victim string
	armed  atomic.Bool
}

func (s *panickySpawner) Check(c *process.Command) error { return process.ForkExec().Check(c) }

func (s *panickySpawner) Spawn(c *process.Command) (process.Child, error) {
	ch, err := process.ForkExec().Spawn(c)
	if err != nil || c.Name != s.victim {
		return ch, err
	}
	return panickyChild{ch, s}, nil
}

type panickyChild struct {
	process.Child
	s *panickySpawner
}

func (c panickyChild) Signal(sig syscall.Signal, group bool) error {
	if sig != syscall.SIGKILL && c.s.armed.CompareAndSwap(true, false) {
		panic("injected")
	}
	return c.Child.Signal(sig, group)
}

// TestPanicInOneRunner injects a panic into the runner of one process and
// checks that the guard leaves it FATAL with its child killed and says so at
// CRIT with the stack, while the other processes and their children live
// on, and that the process can be started again.
func TestPanicInOneRunner(t *testing.T) {
	var mu sync.Mutex
	var reported []*guard.Panic
	guard.SetReporter(func(p *guard.Panic) {
		mu.Lock()
		reported = append(reported, p)
		mu.Unlock()
	})
	t.Cleanup(func() { guard.SetReporter(func(*guard.Panic) {}) })

	good := program("good", 1, 3)
	bad := program("bad", 2, 1)
	for _, g := range []*config.Group{good, bad} {
		for _, p := range g.Processes {
			p.StartSecs = 0
		}
	}
	spawner := &panickySpawner{victim: "bad"}
	log := &lines{}
	s := New(configOf(t.TempDir(), good, bad), Options{Spawner: spawner, Log: log})
	runInBackground(t, s)

	pids := map[string]int{}
	for _, p := range s.AllProcesses() {
		waitState(t, p, process.Running)
		pids[p.Namespec] = p.Info().PID
	}
	victim := s.AllProcesses()[slices.IndexFunc(s.AllProcesses(), func(p *Process) bool { return p.Namespec == "bad" })]
	spawner.armed.Store(true)
	var gp *guard.Panic
	if err := victim.Stop(t.Context(), true); !errors.As(err, &gp) || gp.Value != "injected" {
		t.Fatalf("Stop of the panicking process = %v, want the recovered panic", err)
	}
	info := victim.Info()
	if info.State != process.Fatal || info.SpawnErr != "internal error: injected" {
		t.Errorf("after the panic: %s, spawnerr %q; want FATAL, %q", info.State, info.SpawnErr, "internal error: injected")
	}
	waitGone(t, pids["bad"])
	mu.Lock()
	if len(reported) != 1 || reported[0].What != "runner of program bad" || !strings.Contains(string(reported[0].Stack), "panickyChild.Signal") {
		t.Errorf("reported %v, want one panic of the runner of bad with its stack", reported)
	}
	mu.Unlock()
	if !slices.ContainsFunc(log.Msgs(), func(m string) bool {
		return m == "bad entered FATAL state after an internal error: injected"
	}) {
		t.Errorf("main log %q does not say bad turned FATAL", log.Msgs())
	}

	for _, p := range s.AllProcesses() {
		if p.Namespec == "bad" {
			continue
		}
		if info := p.Info(); info.State != process.Running || info.PID != pids[p.Namespec] {
			t.Errorf("%s: %s pid %d, want RUNNING pid %d", p.Namespec, info.State, info.PID, pids[p.Namespec])
		}
		if err := syscall.Kill(pids[p.Namespec], 0); err != nil {
			t.Errorf("child of %s (pid %d): %v", p.Namespec, pids[p.Namespec], err)
		}
	}
	if err := victim.Start(t.Context(), true); err != nil {
		t.Errorf("Start after the panic = %v", err)
	}
	if info := victim.Info(); info.State != process.Running || info.SpawnErr != "" {
		t.Errorf("after a new start: %s, spawnerr %q", info.State, info.SpawnErr)
	}
}

func waitState(t *testing.T, p *Process, want process.State) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for p.Info().State != want {
		if time.Now().After(deadline) {
			t.Fatalf("%s: %s, want %s", p.Namespec, p.Info().State, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitGone waits until pid no longer exists (it is reaped by its runner).
func waitGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for syscall.Kill(pid, 0) == nil {
		if time.Now().After(deadline) {
			t.Fatalf("pid %d still alive", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestRunTwice: a second Run is refused, also after New failed (it used to
// close ready a second time: a panic).
func TestRunTwice(t *testing.T) {
	g := program("a", 1, 1)
	g.Processes[0].Stdout = config.ChildLog{Kind: config.LogAuto}
	s := New(configOf(filepath.Join(t.TempDir(), "missing"), g), Options{})
	if s.initErr == nil {
		t.Fatal("New did not fail for an AUTO log in a missing childlogdir")
	}
	if _, err := s.Run(t.Context()); err != s.initErr {
		t.Fatalf("first Run = %v, want %v", err, s.initErr)
	}
	if _, err := s.Run(t.Context()); err == nil || err.Error() != "run supervisor: already run" {
		t.Errorf("second Run = %v", err)
	}
}
