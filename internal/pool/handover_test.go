package pool

import (
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/queue"
)

// A pool's scaler state goes to the next image: its target, last resize
// (the cooldown goes on), decision counts and run-time bounds, and the
// workers it drains.
func TestHandOverCarriesScalerState(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := &fakeQueue{}
		sp := newFakeSpawner("w:w_01") // w_01 ignores SIGTERM: it drains until released
		s := newPooled(configOf(t.TempDir(), pool(1, 3, 1, 3)), pooledOptions{Spawner: sp,
			Queues: func(config.QueueSource) queue.Source { return q }})
		result := started(t, s)
		step := func() { time.Sleep(time.Second); synctest.Wait() }
		q.set(queue.Sample{Ready: 10}, nil)
		for range 3 {
			step()
		}
		if err := s.SetPoolBounds("w", 1, 2); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		release, err := s.hold("w")
		if err != nil {
			t.Fatal(err)
		}
		handed := s.HandOver()
		release()
		was := s.WorkerPools()[0]
		if len(handed) != 1 || handed[0].Min != 1 || handed[0].Max != 2 || handed[0].Status.LastResize.IsZero() {
			t.Fatalf("handed over %+v", handed)
		}

		q.set(queue.Sample{}, nil) // the scaler shrinks: w_01 drains
		step()
		release, err = s.hold("w")
		if err != nil {
			t.Fatalf("hold while a worker drains: %v", err)
		}
		if handed := s.HandOver(); len(handed) != 1 || !slices.Equal(handed[0].Draining, []string{"w_01"}) {
			t.Errorf("handed over while w_01 drains: %+v", handed)
		}
		release()
		sp.Release("w:w_01")
		s.Shutdown()
		<-result

		next := newPooled(configOf(t.TempDir(), pool(1, 3, 1, 3)), pooledOptions{Spawner: newFakeSpawner(),
			Queues: func(config.QueueSource) queue.Source { return q }})
		next.TakeOver(handed)
		result = started(t, next)
		got := next.WorkerPools()[0]
		if got.Target != was.Target || !got.LastResize.Equal(was.LastResize) || got.Decisions != was.Decisions ||
			got.Min != 1 || got.Max != 2 {
			t.Errorf("taken over: target %d, last resize %v, decisions %+v, bounds [%d-%d]; want %d, %v, %+v, [1-2]",
				got.Target, got.LastResize, got.Decisions, got.Min, got.Max, was.Target, was.LastResize, was.Decisions)
		}
		next.Shutdown()
		<-result
	})
}
