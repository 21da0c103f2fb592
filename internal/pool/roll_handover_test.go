package pool

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/process"
	"github.com/drover/drover/internal/queue"
	"github.com/drover/drover/internal/supervisor"
)

// heldMidRoll starts a rolling restart of s's group w, batch 1, and holds
// w for an upgrade while it runs (the test's held child keeps it there);
// done answers the roll's end.
func heldMidRoll(t *testing.T, s *Supervisor) (done <-chan error, release func()) {
	t.Helper()
	time.Sleep(2 * time.Second)
	synctest.Wait()
	ended := make(chan error, 1)
	go func() { ended <- s.RollingRestart(t.Context(), "w", 1) }()
	time.Sleep(2 * time.Second)
	synctest.Wait()
	release, err := s.hold("w")
	if err != nil {
		t.Fatalf("hold during a roll: %v", err)
	}
	return ended, release
}

// A roll in progress can be held for an upgrade, and is handed over where
// it stands: its surge worker, what it replaces, how many are done and
// whether the current batch is stopped. Held, it is not stopped: it goes
// on once its process lets it.
func TestHandOverCarriesRoll(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sp := newFakeSpawner("w:w_01") // w_01 ignores SIGTERM: the roll waits on its stop
		s := newPooled(configOf(t.TempDir(), pool(3, 3, 0, 0)), pooledOptions{Spawner: sp})
		result := started(t, s)
		done, release := heldMidRoll(t, s)
		handed := s.HandOver()
		release()
		if len(handed) != 1 || handed[0].Roll == nil {
			t.Fatalf("handed over %+v, want the roll", handed)
		}
		r := *handed[0].Roll
		if r.Update || r.Batch != 1 || !slices.Equal(r.Surge, []string{"w_05"}) ||
			!slices.Equal(r.Todo, []string{"w_00", "w_01", "w_02"}) || r.Done != 1 || r.Stopped || r.Ending {
			t.Errorf("roll handed over: %+v, want surge w_05, w_00 replaced, stopping w_01", r)
		}
		sp.Release("w:w_01")
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if handed := s.HandOver(); len(handed) != 0 {
			t.Errorf("after the roll: handed over %+v, want nothing", handed)
		}
		s.Shutdown()
		<-result
	})
}

// The next image resumes the roll it was handed where it stood: the
// surge worker it adopted serves again, the workers already replaced are
// left alone, each other one is replaced once, and the surge worker goes.
// (The fake children cannot be adopted running, so every adopted process
// starts STOPPED here; tests/upgrade adopts real ones.)
func TestTakeOverResumesRoll(t *testing.T) {
	for _, tc := range []struct {
		name  string
		roll  RollState
		spawn []string
	}{
		{"stopping w_01", RollState{Batch: 1, Surge: []string{"w_05"}, Todo: []string{"w_00", "w_01", "w_02"}, Done: 1},
			[]string{"w:w_05", "w:w_01", "w:w_02"}},
		{"w_01 stopped", RollState{Batch: 1, Surge: []string{"w_05"}, Todo: []string{"w_00", "w_01", "w_02"}, Done: 1, Stopped: true},
			[]string{"w:w_05", "w:w_01", "w:w_02"}},
		{"w_02 left stopped", RollState{Update: true, Batch: 1, Surge: []string{"w_05"}, Todo: []string{"w_00", "w_01", "w_02"}, Done: 2,
			Stopped: true, Idle: []string{"w_02"}}, []string{"w:w_05"}},
		{"ending", RollState{Batch: 1, Surge: []string{"w_05"}, Todo: []string{"w_00", "w_01", "w_02"}, Done: 3, Ending: true}, nil},
	} {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				adopt := map[string]supervisor.Adopted{}
				for _, n := range []string{"w:w_00", "w:w_01", "w:w_02", "w:w_05"} {
					adopt[n] = supervisor.Adopted{Snapshot: process.Snapshot{State: process.Stopped}}
				}
				sp := newFakeSpawner()
				s := newPooled(configOf(t.TempDir(), pool(3, 3, 0, 0)), pooledOptions{Spawner: sp, Adopt: adopt})
				roll := tc.roll
				s.TakeOver([]Handed{{Group: "w", Roll: &roll}})
				result := started(t, s)
				time.Sleep(5 * time.Second)
				synctest.Wait()
				if got := sp.Spawned(); !slices.Equal(got, tc.spawn) {
					t.Errorf("spawned %v, want %v", got, tc.spawn)
				}
				var names []string
				for _, p := range s.Group("w").Processes {
					names = append(names, p.Config().Name)
				}
				if !slices.Equal(names, []string{"w_00", "w_01", "w_02"}) {
					t.Errorf("after the roll the pool is %v, want w_00 to w_02 (the surge worker gone)", names)
				}
				if st := s.WorkerPools()[0]; st.Rolling != "" {
					t.Errorf("still rolling: %q", st.Rolling)
				}
				for _, p := range s.Snapshot().Groups[0].Processes {
					want := RestartCounts{}
					if slices.Contains(tc.spawn, "w:"+p.Name) {
						want = RestartCounts{RestartRolling: 1}
					}
					if p.Restarts != want {
						t.Errorf("%s restarts %v, want %v", p.Name, p.Restarts, want)
					}
				}
				s.Shutdown()
				<-result
			})
		})
	}
}

// A roll whose waiter is bound to this image (a fleet command, whose
// result this node reports) is not handed over: holding is refused,
// saying who waits.
func TestHoldRefusesPinnedRoll(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sp := newFakeSpawner("w:w_00")
		s := newPooled(configOf(t.TempDir(), pool(2, 2, 0, 0)), pooledOptions{Spawner: sp})
		result := started(t, s)
		time.Sleep(2 * time.Second)
		synctest.Wait()
		done := make(chan error, 1)
		go func() { done <- s.RollingRestart(PinToImage(t.Context(), "a fleet command"), "w", 1) }()
		time.Sleep(2 * time.Second)
		synctest.Wait()
		if _, err := s.hold("w"); err == nil || !strings.Contains(err.Error(), "a rolling restart is in progress for a fleet command") {
			t.Errorf("hold during a pinned roll: %v", err)
		}
		sp.Release("w:w_00")
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		release, err := s.hold("w")
		if err != nil {
			t.Fatalf("hold once the roll is done: %v", err)
		}
		release()
		s.Shutdown()
		<-result
	})
}

// Held for an upgrade while a roll runs, a pool makes no scaling decision
// even once the roll is done, until it is released.
func TestHoldDuringRollKeepsScalerStill(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := &fakeQueue{}
		sp := newFakeSpawner("w:w_00")
		s := newPooled(configOf(t.TempDir(), pool(1, 2, 1, 2)), pooledOptions{Spawner: sp,
			Queues: func(config.QueueSource) queue.Source { return q }})
		result := started(t, s)
		done, release := heldMidRoll(t, s)
		sp.Release("w:w_00")
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		q.set(queue.Sample{Ready: 10}, nil) // the scaler would grow to 2
		time.Sleep(5 * time.Second)
		synctest.Wait()
		if n := len(s.Group("w").Processes); n != 1 {
			t.Errorf("held, the pool has %d processes, want 1 (no scaling decision)", n)
		}
		release()
		time.Sleep(2 * time.Second)
		synctest.Wait()
		if n := len(s.Group("w").Processes); n != 2 {
			t.Errorf("released, the pool has %d processes, want 2", n)
		}
		s.Shutdown()
		<-result
	})
}

// The next image drains again what the scaler was draining: the worker is
// stopped and removed, the other ones kept, and the worker it had leased
// is given back to the Limiter.
func TestTakeOverDrainsAgain(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// Stopped: the fake children cannot be adopted; w_2 had stopped
		// but was not removed yet.
		adopt := map[string]supervisor.Adopted{}
		for _, n := range []string{"w:w_0", "w:w_1", "w:w_2"} {
			adopt[n] = supervisor.Adopted{Snapshot: process.Snapshot{State: process.Stopped}}
		}
		g := pool(1, 3, 1, 3)
		for i, p := range append(slices.Clone(g.Processes), g.Spares...) {
			p.Name = "w_" + string(rune('0'+i))
		}
		limiter := &countingLimiter{}
		m := New(Options{Queues: func(config.QueueSource) queue.Source { return &fakeQueue{} }, Limiter: limiter})
		sup := supervisor.New(configOf(t.TempDir(), g), supervisor.Options{Spawner: newFakeSpawner(), Hooks: m.Hooks(supervisor.Hooks{}), Adopt: adopt})
		m.Bind(sup)
		s := &Supervisor{sup, m}
		m.TakeOver([]Handed{{Group: "w", Status: supervisor.WorkerPool{Scaling: true}, Leased: 2, Draining: []string{"w_2"}}})
		result := started(t, s)
		synctest.Wait()
		var names []string
		for _, p := range s.Group("w").Processes {
			names = append(names, p.Config().Name)
		}
		if !slices.Equal(names, []string{"w_0", "w_1"}) {
			t.Errorf("after the take-over the pool is %v, want w_2 drained away", names)
		}
		if got := limiter.released(); got != 1 {
			t.Errorf("released %d to the limiter, want the 1 drained", got)
		}
		s.Shutdown()
		<-result
	})
}

// countingLimiter grants everything and counts what is released.
type countingLimiter struct {
	mu  sync.Mutex
	out int
}

func (l *countingLimiter) Acquire(_ string, n int) int { return n }

func (l *countingLimiter) Release(_ string, n int) {
	l.mu.Lock()
	l.out += n
	l.mu.Unlock()
}

func (l *countingLimiter) released() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.out
}

// slowQueue answers each sample after a while, asking for more workers.
type slowQueue struct{ after time.Duration }

func (q slowQueue) Sample(ctx context.Context, _ time.Time) (queue.Sample, error) {
	select {
	case <-time.After(q.after):
	case <-ctx.Done():
	}
	return queue.Sample{Ready: 10}, nil
}

func (slowQueue) Close() error { return nil }

// slowLimiter answers each request after a while, granting nothing.
type slowLimiter struct{ after time.Duration }

func (l slowLimiter) Acquire(string, int) int { time.Sleep(l.after); return 0 }
func (slowLimiter) Release(string, int)       {}

// A pool whose scaler is deciding cannot be held for that moment; the
// freeze waits for it (no next decision starts meanwhile), up to a bound,
// and then says why it refuses.
func TestFreezeWaitsForScalingDecision(t *testing.T) {
	for _, tc := range []struct {
		name           string
		sample, answer time.Duration
		refuse         bool
	}{
		{"queue answering in 1.5s", 1500 * time.Millisecond, 0, false},
		{"limiter answering in 9s", 0, 9 * time.Second, true},
	} {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				m := New(Options{Queues: func(config.QueueSource) queue.Source { return slowQueue{tc.sample} },
					Limiter: slowLimiter{tc.answer}})
				sup := supervisor.New(configOf(t.TempDir(), pool(1, 2, 1, 2)), supervisor.Options{Spawner: newFakeSpawner(),
					Hooks: m.Hooks(supervisor.Hooks{})})
				m.Bind(sup)
				s := &Supervisor{sup, m}
				result := started(t, s)
				time.Sleep(1200 * time.Millisecond) // the first decision began at 1 s
				if _, err := s.hold("w"); !errors.Is(err, supervisor.ErrHoldBusy) {
					t.Errorf("hold while the scaler decides: %v, want a refusal for a moment", err)
				}
				err := s.CheckFreezable()
				switch {
				case tc.refuse && (err == nil || !strings.Contains(err.Error(), "upgrade refused: pool w: a scaling decision is in progress")):
					t.Errorf("%v, want a refusal", err)
				case !tc.refuse && err != nil:
					t.Errorf("%v, want the freeze to wait for the decision", err)
				}
				s.Shutdown()
				<-result
			})
		})
	}
}
