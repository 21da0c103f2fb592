package pool

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/drover/drover/internal/process"
)

func TestSnapshotAndRestartReasons(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := program("w", 1, 1)
		manual := program("manual", 2, 1)
		manual.Processes[0].Autostart = false
		sp := newFakeSpawner()
		s := newPooled(configOf(t.TempDir(), w, manual), pooledOptions{Spawner: sp})
		started(t, s)
		time.Sleep(2 * time.Second) // past startsecs
		synctest.Wait()

		snap := s.Snapshot()
		if len(snap.Groups) != 2 || snap.Groups[0].Name != "manual" || snap.Groups[1].Name != "w" {
			t.Fatalf("groups: %+v", snap.Groups)
		}
		wp := snap.Groups[1].Processes[0]
		if wp.State != process.Running || wp.PID == 0 || !wp.ReadyRequired || !wp.Ready(snap.Taken) ||
			wp.Restarts.Total() != 0 || wp.Description == "" || snap.Groups[1].Pool == nil {
			t.Fatalf("w after start: %+v", wp)
		}
		if mp := snap.Groups[0].Processes[0]; mp.State != process.Stopped || mp.ReadyRequired {
			t.Fatalf("manual: %+v", mp)
		}

		// The child dies: the runner starts it again on its own.
		sp.Release("w")
		synctest.Wait()
		// A client stops and starts it: a manual restart.
		p, _, _ := s.Lookup("w")
		if err := p[0].Stop(context.Background(), true); err != nil {
			t.Fatal(err)
		}
		if err := p[0].StartFor(context.Background(), false, RestartManual); err != nil {
			t.Fatal(err)
		}
		// A failed start request leaves no reason behind for the next spawn.
		if err := p[0].StartFor(context.Background(), false, RestartRolling); err == nil {
			t.Fatal("start of a started process succeeded")
		}
		synctest.Wait()
		sp.Release("w") // in STARTING: BACKOFF, then a retry
		time.Sleep(5 * time.Second)
		synctest.Wait()
		// A client's first start of a process is no restart.
		m, _, _ := s.Lookup("manual")
		if err := m[0].StartFor(context.Background(), false, RestartManual); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()

		snap = s.Snapshot()
		want := RestartCounts{RestartCrash: 2, RestartManual: 1}
		if got := snap.Groups[1].Processes[0].Restarts; got != want {
			t.Errorf("w restarts %v, want %v", got, want)
		}
		if got := snap.Groups[0].Processes[0].Restarts; got.Total() != 0 {
			t.Errorf("manual restarts %v, want none", got)
		}
		s.Shutdown()
	})
}
