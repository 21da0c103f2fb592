package process

import (
	"context"
	"testing"
	"testing/synctest"

	"github.com/drover/drover/internal/events"
)

// A subscriber that never reads does not hold up a process: a thousand
// start/stop cycles go through with its small buffer full all along, and
// what it lost is counted.
func TestRunnerIsNotHeldUpByAStuckSubscriber(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		bus := &events.Bus{}
		stuck := bus.Subscribe(events.Named("stuck"), events.Buffer(16))
		defer stuck.Close()
		cfg := testConfig()
		cfg.StartSecs = 0
		r := NewRunner(cfg, Options{Spawner: newFakeSpawner(), Events: bus, Log: &logRecorder{}})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- r.Run(ctx) }()
		defer func() { cancel(); <-done }()
		const cycles = 1000
		for range cycles {
			if err := r.Start(ctx, true); err != nil {
				t.Fatalf("Start = %v", err)
			}
			if err := r.Stop(ctx, true); err != nil {
				t.Fatalf("Stop = %v", err)
			}
		}
		if got := r.Info().State; got != Stopped {
			t.Errorf("state = %v, want STOPPED", got)
		}
		// Each cycle publishes STARTING, RUNNING, STOPPING, STOPPED.
		if got, want := bus.Dropped()["stuck"], uint64(4*cycles-16); got != want {
			t.Errorf("the stuck subscriber lost %d events, want %d", got, want)
		}
	})
}
