package supervisor

import (
	"context"
	"errors"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/events"
	"github.com/drover/drover/internal/process"
	"github.com/drover/drover/internal/supervisor/supervisortest"
)

// eventNames drains sub.
func eventNames(sub *events.Subscription, keep func(events.Event) bool) []string {
	var ns []string
	for _, e := range sub.Next() {
		if keep(e) {
			ns = append(ns, e.Name())
		}
	}
	return ns
}

func notProcessState(e events.Event) bool {
	_, ok := e.(events.ProcessState)
	return !ok
}

func TestStartAndShutdownOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		manual := program("manual", 0, 1)
		manual.Processes[0].Autostart = false
		cfg := configOf(t.TempDir(),
			manual,
			program("first", 1, 1),
			program("a", 10, 2),
			heterogeneous("b", 10, proc("", "y", 1), proc("", "x", 2)),
			program("last", 20, 1),
		)
		sp := newFakeSpawner("a:a_01", "first")
		bus := &events.Bus{}
		sub := bus.Subscribe()
		defer sub.Close()
		s := New(cfg, Options{Spawner: sp, Events: bus})
		result := started(t, s)

		if got, want := sp.Spawned(), []string{"first", "a:a_00", "a:a_01", "b:y", "b:x", "last"}; !slices.Equal(got, want) {
			t.Errorf("spawn order = %v, want %v", got, want)
		}
		wantEvents := []string{"PROCESS_GROUP_ADDED", "PROCESS_GROUP_ADDED", "PROCESS_GROUP_ADDED",
			"PROCESS_GROUP_ADDED", "PROCESS_GROUP_ADDED", "SUPERVISOR_STATE_CHANGE_RUNNING"}
		if got := eventNames(sub, notProcessState); !slices.Equal(got, wantEvents) {
			t.Errorf("events = %v, want %v", got, wantEvents)
		}

		s.Restart()
		synctest.Wait()
		if m := s.Mood(); m != MoodRestarting {
			t.Errorf("Mood() = %v, want RESTARTING", m)
		}
		if err := s.AddGroup(t.Context(), "x"); !errors.Is(err, ErrShuttingDown) {
			t.Errorf("AddGroup during restart = %v, want ErrShuttingDown", err)
		}
		// last, then b (both at once), then a (both at once), whose a_01 holds the line.
		got := sp.Signaled()
		if len(got) != 5 || got[0] != "last" || !sameSet(got[1:3], []string{"b:x", "b:y"}) || !sameSet(got[3:], []string{"a:a_00", "a:a_01"}) {
			t.Fatalf("signalled %v, want last, {b:x b:y}, {a:a_00 a:a_01} and nothing more while a:a_01 is stopping", got)
		}
		sp.Release("a:a_01")
		synctest.Wait()
		// first holds too; manual was never started.
		if got := sp.Signaled(); len(got) != 6 || got[5] != "first" {
			t.Fatalf("signalled %v, want first last", got)
		}
		s.Shutdown() // turns the reload into a shutdown
		sp.Release("first")
		if restart := <-result; restart {
			t.Errorf("Run() restart = true after Shutdown during a reload, want false")
		}
		if got := eventNames(sub, notProcessState); !slices.Equal(got, []string{"SUPERVISOR_STATE_CHANGE_STOPPING"}) {
			t.Errorf("events while stopping = %v, want one SUPERVISOR_STATE_CHANGE_STOPPING", got)
		}
		for _, p := range s.AllProcesses() {
			if st := p.Info().State; !st.IsStopped() {
				t.Errorf("%s is %v after Run", p.Namespec, st)
			}
		}
	})
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func TestRestart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := New(configOf(t.TempDir(), program("a", 1, 1)), Options{Spawner: newFakeSpawner()})
		result := started(t, s)
		s.Restart()
		s.Restart()
		if restart := <-result; !restart {
			t.Errorf("Run() restart = false after Restart, want true")
		}
	})
}

// A reload whose config does not load is refused: nothing stops, and the
// next good one is what NextConfig gives.
func TestRestartValidatesFirst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sp := newFakeSpawner()
		good := configOf(t.TempDir(), program("a", 1, 1))
		loadErr := &config.Error{Msg: "bad", File: "x.conf", Line: 3, Option: "startsecs"}
		load := func() (*config.Config, error) { return nil, loadErr }
		s := New(good, Options{Spawner: sp, Load: func() (*config.Config, error) { return load() }})
		result := started(t, s)
		if err := s.Restart(); err != loadErr {
			t.Fatalf("Restart with a bad config = %v, want the load error", err)
		}
		synctest.Wait()
		if m, sig := s.Mood(), sp.Signaled(); m != MoodRunning || len(sig) != 0 {
			t.Fatalf("after a refused reload: mood %v, signalled %v", m, sig)
		}
		load = func() (*config.Config, error) { return good, nil }
		if err := s.Restart(); err != nil {
			t.Fatal(err)
		}
		if restart := <-result; !restart || s.NextConfig() != good {
			t.Errorf("Run() restart = %v, NextConfig %p; want true, %p", restart, s.NextConfig(), good)
		}
	})
}

func TestRunContextDone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sp := newFakeSpawner()
		s := New(configOf(t.TempDir(), program("a", 1, 1)), Options{Spawner: sp})
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan bool)
		go func() {
			restart, _ := s.Run(ctx)
			done <- restart
		}()
		<-s.Ready()
		cancel()
		if restart := <-done; restart || s.Mood() != MoodShutdown {
			t.Errorf("after ctx done: restart %v, mood %v; want false, SHUTDOWN", restart, s.Mood())
		}
		if got := sp.Signaled(); !slices.Equal(got, []string{"a"}) {
			t.Errorf("signalled %v, want [a]", got)
		}
	})
}

func TestAddRemoveGroup(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		sp := newFakeSpawner()
		bus := &events.Bus{}
		sub := bus.Subscribe()
		defer sub.Close()
		idle := program("idle", 2, 1)
		idle.Processes[0].Autostart = false
		next := configOf(dir, program("web", 1, 1), idle, program("added", 3, 2))
		s := New(configOf(dir, program("web", 1, 1), idle), Options{
			Spawner: sp, Events: bus,
			Load: func() (*config.Config, error) { return next, nil },
		})
		ctx := t.Context()
		if err := s.AddGroup(ctx, "web"); !errors.Is(err, ErrAlreadyAdded) {
			t.Errorf("AddGroup(web) before Run = %v, want ErrAlreadyAdded", err)
		}
		result := started(t, s)
		sub.Next()

		if err := s.AddGroup(ctx, "added"); !errors.Is(err, ErrBadName) {
			t.Errorf("AddGroup(not yet reread) = %v, want ErrBadName", err)
		}
		if _, _, _, err := s.Reread(); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			op, name string
			err      error
		}{
			{"add", "web", ErrAlreadyAdded},
			{"add", "nope", ErrBadName},
			{"add", "added", nil},
			{"remove", "nope", ErrBadName},
			{"remove", "web", ErrStillRunning},
			{"remove", "added", ErrStillRunning},
			{"remove", "idle", nil},
			{"remove", "idle", ErrBadName},
		}
		for _, tt := range tests {
			var err error
			if tt.op == "add" {
				err = s.AddGroup(ctx, tt.name)
			} else {
				err = s.RemoveGroup(ctx, tt.name)
			}
			if !errors.Is(err, tt.err) {
				t.Errorf("%s %s = %v, want %v", tt.op, tt.name, err, tt.err)
			}
		}
		synctest.Wait()
		if got, want := sp.Spawned(), []string{"web", "added:added_00", "added:added_01"}; !slices.Equal(got, want) {
			t.Errorf("spawned %v, want %v", got, want)
		}
		if got, want := eventNames(sub, notProcessState), []string{"PROCESS_GROUP_ADDED", "PROCESS_GROUP_REMOVED"}; !slices.Equal(got, want) {
			t.Errorf("events = %v, want %v", got, want)
		}
		if s.Group("idle") != nil || s.Group("added") == nil {
			t.Errorf("groups after add/remove: %v", s.Groups())
		}

		procs, _, _ := s.Lookup("added:*")
		for _, p := range procs {
			if err := p.Stop(ctx, true); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.RemoveGroup(ctx, "added"); err != nil {
			t.Errorf("RemoveGroup(stopped group) = %v", err)
		}
		// A removed group's runners are gone: it can be added again, fresh.
		if err := s.AddGroup(ctx, "added"); err != nil {
			t.Errorf("AddGroup(again) = %v", err)
		}
		s.Shutdown()
		<-result
		if err := s.RemoveGroup(ctx, "web"); !errors.Is(err, ErrShuttingDown) {
			t.Errorf("RemoveGroup after shutdown = %v, want ErrShuttingDown", err)
		}
	})
}

// lines keeps the log messages starting with its Prefix.
type lines = supervisortest.Lines

func TestShutdownReport(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := configOf(t.TempDir(), program("a", 1, 1), program("w", 2, 2))
		for _, p := range cfg.Groups[1].Processes {
			p.StopWait = time.Minute
		}
		sp := newFakeSpawner("w:w_00", "w:w_01")
		log := &lines{Prefix: "waiting for"}
		s := New(cfg, Options{Spawner: sp, Log: log})
		result := started(t, s)
		s.Shutdown()
		synctest.Wait()
		want := []string{"waiting for a, w_00, w_01 to die"}
		if got := log.Msgs(); !slices.Equal(got, want) {
			t.Errorf("log = %q, want %q", got, want)
		}
		time.Sleep(shutdownReportEvery)
		synctest.Wait()
		want = append(want, want[0])
		if got := log.Msgs(); !slices.Equal(got, want) {
			t.Errorf("log after %v = %q, want %q", shutdownReportEvery, got, want)
		}
		sp.Release("w:w_00")
		sp.Release("w:w_01")
		<-result
		if got := log.Msgs(); len(got) != 2 {
			t.Errorf("log after the stop = %q, want no more reports", got)
		}
	})
}

// Groups added or removed before Run (the servers are up before it) are
// started, announced and autostarted by Run with the others.
func TestAddRemoveBeforeRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		sp := newFakeSpawner()
		bus := &events.Bus{}
		sub := bus.Subscribe()
		defer sub.Close()
		next := configOf(dir, program("web", 1, 1), program("early", 0, 1))
		s := newSupervisor(t, configOf(dir, program("web", 1, 1), program("gone", 2, 1)), Options{
			Spawner: sp, Events: bus,
			Load: func() (*config.Config, error) { return next, nil },
		})
		if _, _, _, err := s.Reread(); err != nil {
			t.Fatal(err)
		}
		if err := s.AddGroup(t.Context(), "early"); err != nil {
			t.Fatalf("AddGroup before Run = %v", err)
		}
		if err := s.RemoveGroup(t.Context(), "gone"); err != nil {
			t.Fatalf("RemoveGroup before Run = %v", err)
		}
		if got := eventNames(sub, notProcessState); !slices.Equal(got, []string{"PROCESS_GROUP_REMOVED"}) {
			t.Errorf("events before Run = %v, want [PROCESS_GROUP_REMOVED]", got)
		}
		result := started(t, s)
		if got, want := sp.Spawned(), []string{"early", "web"}; !slices.Equal(got, want) {
			t.Errorf("spawned %v, want %v", got, want)
		}
		want := []string{"PROCESS_GROUP_ADDED", "PROCESS_GROUP_ADDED", "SUPERVISOR_STATE_CHANGE_RUNNING"}
		if got := eventNames(sub, notProcessState); !slices.Equal(got, want) {
			t.Errorf("events = %v, want %v", got, want)
		}
		s.Shutdown()
		<-result
	})
}

// TestActivationStopEndsRunners: the runners of a group begin with no
// context of their own, so removing the group, or the end of Run, must
// close each of them: those it began with, one AddProcess added, and those
// of a group added after Run; and cancel the activation's context.
func TestActivationStopEndsRunners(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		next := configOf(dir, program("w", 1, 3), program("late", 2, 2))
		s := New(configOf(dir, program("w", 1, 3)), Options{Spawner: newFakeSpawner(),
			Load: func() (*config.Config, error) { return next, nil }})
		result := started(t, s)
		synctest.Wait()
		g := s.Group("w")
		act := g.Activation()
		extra := *g.Config.Processes[0]
		extra.Name = "w_extra"
		added, err := act.AddProcess(&extra)
		if err != nil {
			t.Fatal(err)
		}
		procs := append(slices.Clone(g.Processes), added)
		for _, p := range procs {
			if err := p.Stop(t.Context(), true); err != nil && !errors.Is(err, process.ErrNotRunning) {
				t.Fatal(err)
			}
		}
		if err := s.RemoveGroup(t.Context(), "w"); err != nil {
			t.Fatal(err)
		}
		// RemoveGroup waits for the runners it began; one AddProcess
		// added ends on its own context, a moment later.
		synctest.Wait()
		for _, p := range procs {
			select {
			case <-p.Done():
			default:
				t.Errorf("runner of %s still running after its group was removed", p.Namespec)
			}
		}
		if act.Context().Err() == nil {
			t.Error("the removed group's context is not cancelled")
		}

		if _, _, _, err := s.Reread(); err != nil {
			t.Fatal(err)
		}
		if err := s.AddGroup(t.Context(), "late"); err != nil {
			t.Fatal(err)
		}
		late := s.Group("late")
		s.Shutdown()
		<-result
		for _, p := range late.Processes {
			select {
			case <-p.Done():
			default:
				t.Errorf("runner of %s still running after Run returned", p.Namespec)
			}
		}
		if late.Activation().Context().Err() == nil {
			t.Error("the context of a group added after Run is not cancelled at its end")
		}
	})
}
