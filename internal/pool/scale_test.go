package pool

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/events"
	"github.com/drover/drover/internal/queue"
)

// fakeQueue is a queue source whose next samples the test sets.
type fakeQueue struct {
	mu     sync.Mutex
	sample queue.Sample
	err    error
}

func (q *fakeQueue) set(s queue.Sample, err error) {
	q.mu.Lock()
	q.sample, q.err = s, err
	q.mu.Unlock()
}

func (q *fakeQueue) Sample(context.Context, time.Time) (queue.Sample, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.sample, q.err
}

func (q *fakeQueue) Close() error { return nil }

// pool returns a program group w of numprocs workers with spare process
// numbers up to 2*slots, scaling between min and max when max > 0.
func pool(numprocs, slots, minimum, maximum int) *config.Group {
	g := program("w", 1, slots*2)
	g.Processes, g.Spares = g.Processes[:numprocs], g.Processes[numprocs:]
	for i, p := range append(slices.Clone(g.Processes), g.Spares...) {
		p.ProcessNum = i
	}
	if maximum > 0 {
		g.Scaling = &config.Scaling{Min: minimum, Max: maximum, Step: 1, Interval: time.Second, JobsPerWorker: 1,
			Queue: config.QueueSource{Display: "fake://"}}
	}
	return g
}

// processStates returns "name=STATE" for the processes of group w.
func processStates(s *Supervisor) []string {
	var out []string
	for _, p := range s.Group("w").Processes {
		out = append(out, fmt.Sprintf("%s=%s", p.Config().Name, p.Info().State))
	}
	return out
}

func TestScaleUpAndDown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := &fakeQueue{}
		sp := newFakeSpawner("w:w_02")
		s := newPooled(configOf(t.TempDir(), pool(1, 3, 1, 3)), pooledOptions{Spawner: sp,
			Queues: func(config.QueueSource) queue.Source { return q }})
		result := started(t, s)
		step := func() { time.Sleep(time.Second); synctest.Wait() }
		expect := func(what string, want ...string) {
			t.Helper()
			if got := processStates(s); !slices.Equal(got, want) {
				t.Fatalf("%s: processes = %v, want %v", what, got, want)
			}
		}
		step()
		expect("idle", "w_00=RUNNING")

		q.set(queue.Sample{Ready: 10}, nil)
		step()
		expect("first growth", "w_00=RUNNING", "w_01=STARTING")
		step()
		expect("second growth", "w_00=RUNNING", "w_01=RUNNING", "w_02=STARTING")
		step()
		step()
		expect("at numprocs_max", "w_00=RUNNING", "w_01=RUNNING", "w_02=RUNNING")

		// Drained: the newest worker goes first. w_02 is busy with a job
		// (ignores SIGTERM): it drains until it finishes, and meanwhile
		// it is not capacity.
		q.set(queue.Sample{}, nil)
		step()
		expect("shrink starts", "w_00=RUNNING", "w_01=RUNNING", "w_02=STOPPING")
		if st := s.WorkerPools()[0]; st.Workers != 2 || st.Draining != 1 || st.Target != 2 {
			t.Fatalf("pool = %+v", st)
		}
		// A new burst while w_02 drains: growth is not blocked by it.
		q.set(queue.Sample{Ready: 5}, nil)
		step()
		expect("growth past a draining worker", "w_00=RUNNING", "w_01=RUNNING", "w_02=STOPPING", "w_03=STARTING")
		sp.Release("w:w_02")
		synctest.Wait()
		expect("drained worker removed", "w_00=RUNNING", "w_01=RUNNING", "w_03=STARTING")

		q.set(queue.Sample{}, nil)
		for range 6 {
			step()
		}
		expect("back at numprocs_min", "w_00=RUNNING")
		// Growth three times (the two first steps, then past the draining
		// worker); shrinking at least twice (w_02, then back to min).
		if d := s.WorkerPools()[0].Decisions; d.Up != 3 || d.Down < 2 || d.Hold == 0 {
			t.Errorf("decisions %+v", d)
		}
		if got := sp.Signaled(); !slices.Equal(got, []string{"w:w_02", "w:w_03", "w:w_01"}) {
			t.Errorf("signalled %v", got)
		}

		s.Shutdown()
		<-result
	})
}

func TestScaleHoldsWhenQueueUnreachable(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := &fakeQueue{}
		q.set(queue.Sample{}, errors.New("dial tcp: connection refused"))
		logs := &lines{Prefix: "pool w: queue"}
		s := newPooled(configOf(t.TempDir(), pool(2, 3, 1, 3)), pooledOptions{Spawner: newFakeSpawner(), Log: logs,
			Queues: func(config.QueueSource) queue.Source { return q }})
		result := started(t, s)
		for range 3 {
			time.Sleep(time.Second)
			synctest.Wait()
		}
		st := s.WorkerPools()[0]
		if st.QueueOK || st.Workers != 2 || st.QueueError != "dial tcp: connection refused" {
			t.Fatalf("pool = %+v", st)
		}
		q.set(queue.Sample{}, nil)
		time.Sleep(time.Second)
		synctest.Wait()
		if st := s.WorkerPools()[0]; !st.QueueOK || st.Target != 1 {
			t.Fatalf("after recovery: %+v", st)
		}
		want := []string{
			"pool w: queue fake:// unreachable, holding its size: dial tcp: connection refused",
			"pool w: queue fake:// reachable again",
		}
		if got := logs.Msgs(); !slices.Equal(got, want) {
			t.Errorf("log = %q, want %q", got, want)
		}
		s.Shutdown()
		<-result
	})
}

func TestScaleLeavesStoppedPoolAlone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := &fakeQueue{}
		q.set(queue.Sample{Ready: 50}, nil)
		g := pool(1, 3, 1, 3)
		g.Processes[0].Autostart = false
		s := newPooled(configOf(t.TempDir(), g), pooledOptions{Spawner: newFakeSpawner(),
			Queues: func(config.QueueSource) queue.Source { return q }})
		result := started(t, s)
		time.Sleep(3 * time.Second)
		synctest.Wait()
		if got := processStates(s); !slices.Equal(got, []string{"w_00=STOPPED"}) {
			t.Fatalf("processes = %v", got)
		}
		if st := s.WorkerPools()[0]; st.Decision != "paused: w_00 is STOPPED (start it to resume scaling)" {
			t.Errorf("decision = %q", st.Decision)
		}
		// Started by hand, the pool scales again.
		procs, _, _ := s.Lookup("w:w_00")
		if err := procs[0].Start(t.Context(), true); err != nil {
			t.Fatal(err)
		}
		time.Sleep(3 * time.Second)
		synctest.Wait()
		if got := processStates(s); !slices.Equal(got, []string{"w_00=RUNNING", "w_01=RUNNING", "w_02=RUNNING"}) {
			t.Fatalf("after start: processes = %v", got)
		}
		// One worker stopped by hand pauses the pool again.
		procs, _, _ = s.Lookup("w:w_01")
		if err := procs[0].Stop(t.Context(), true); err != nil {
			t.Fatal(err)
		}
		time.Sleep(3 * time.Second)
		synctest.Wait()
		if got := processStates(s); !slices.Equal(got, []string{"w_00=RUNNING", "w_01=STOPPED", "w_02=RUNNING"}) {
			t.Fatalf("after a stop by hand: processes = %v", got)
		}
		s.Shutdown()
		<-result
	})
}

func TestRollingRestartKeepsCapacity(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		bus := &events.Bus{}
		sub := bus.Subscribe()
		defer sub.Close()
		sp := newFakeSpawner()
		s := newPooled(configOf(t.TempDir(), pool(3, 3, 0, 0)), pooledOptions{Spawner: sp, Events: bus})
		result := started(t, s)
		time.Sleep(2 * time.Second)
		synctest.Wait()
		sub.Next()
		done := make(chan error, 1)
		go func() { done <- s.RollingRestart(t.Context(), "w", 1) }()

		running := map[string]bool{"w_00": true, "w_01": true, "w_02": true}
		least, spawns := 3, 0
	loop:
		for {
			select {
			case err := <-done:
				if err != nil {
					t.Fatal(err)
				}
				break loop
			case <-sub.Ready():
				for _, e := range sub.Next() {
					ps, ok := e.(events.ProcessState)
					if !ok {
						continue
					}
					running[ps.Process] = ps.To == "RUNNING"
					if ps.To == "STARTING" {
						spawns++
					}
					n := 0
					for _, r := range running {
						if r {
							n++
						}
					}
					least = min(least, n)
				}
			}
		}
		synctest.Wait()
		if least < 3 {
			t.Errorf("RUNNING dropped to %d during the roll", least)
		}
		if spawns != 4 {
			t.Errorf("%d spawns, want 3 restarts + 1 surge", spawns)
		}
		if got := processStates(s); !slices.Equal(got, []string{"w_00=RUNNING", "w_01=RUNNING", "w_02=RUNNING"}) {
			t.Errorf("after the roll: %v", got)
		}
		if got, want := sp.Signaled(), []string{"w:w_00", "w:w_01", "w:w_02", "w:w_05"}; !slices.Equal(got, want) {
			t.Errorf("signalled %v, want %v", got, want)
		}
		for _, p := range s.Snapshot().Groups[0].Processes {
			if want := (RestartCounts{RestartRolling: 1}); p.Restarts != want {
				t.Errorf("%s restarts %v, want %v", p.Name, p.Restarts, want)
			}
		}
		s.Shutdown()
		<-result
	})
}

func TestRollingUpdateReplacesChanged(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := configOf(t.TempDir(), pool(2, 2, 0, 0))
		next := pool(3, 3, 0, 0)
		for _, p := range append(slices.Clone(next.Processes), next.Spares...) {
			p.Argv = []string{"/bin/sleep", "2000"}
			p.Command = "new"
		}
		s := newPooled(cfg, pooledOptions{Spawner: newFakeSpawner(),
			Load: func() (*config.Config, error) { return configOf(t.TempDir(), next), nil }})
		result := started(t, s)
		time.Sleep(2 * time.Second)
		synctest.Wait()
		if _, changed, _, err := s.Reread(); err != nil || !slices.Equal(changed, []string{"w"}) {
			t.Fatalf("reread: %v %v", changed, err)
		}
		if err := s.RollingUpdate(t.Context(), "w", 2); err != nil {
			t.Fatal(err)
		}
		var cmds []string
		for _, p := range s.Group("w").Processes {
			cmds = append(cmds, p.Config().Name+"="+p.Config().Command+"/"+p.Info().State.String())
		}
		if want := []string{"w_00=new/RUNNING", "w_01=new/RUNNING", "w_02=new/RUNNING"}; !slices.Equal(cmds, want) {
			t.Errorf("after update: %v, want %v", cmds, want)
		}
		// w_00 and w_01 were replaced; w_02 is new, started for the first time.
		for _, p := range s.Snapshot().Groups[0].Processes {
			want := RestartCounts{RestartRolling: 1}
			if p.Name == "w_02" {
				want = RestartCounts{}
			}
			if p.Restarts != want {
				t.Errorf("%s restarts %v, want %v", p.Name, p.Restarts, want)
			}
		}
		if _, changed, _, _ := s.Reread(); len(changed) != 0 {
			t.Errorf("still changed after the rolling update: %v", changed)
		}
		s.Shutdown()
		<-result
	})
}

func TestRollingRestartNeedsSpares(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newPooled(configOf(t.TempDir(), program("w", 1, 1)), pooledOptions{Spawner: newFakeSpawner()})
		result := started(t, s)
		if err := s.RollingRestart(t.Context(), "w", 1); !errors.Is(err, ErrNotRollable) {
			t.Errorf("err = %v, want ErrNotRollable", err)
		}
		if err := s.RollingRestart(t.Context(), "nope", 1); !errors.Is(err, ErrBadName) {
			t.Errorf("err = %v, want ErrBadName", err)
		}
		s.Shutdown()
		<-result
	})
}

func TestRollingUpdateOfPoolOptionsRestartsNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		withMax := func(max string) *config.Group {
			g := pool(2, 2, 0, 0)
			for _, p := range append(slices.Clone(g.Processes), g.Spares...) {
				p.Extra = map[string]string{"numprocs_max": max, "command_note": "same"}
			}
			return g
		}
		next := withMax("4")
		sp := newFakeSpawner()
		s := newPooled(configOf(t.TempDir(), withMax("2")), pooledOptions{Spawner: sp,
			Load: func() (*config.Config, error) { return configOf(t.TempDir(), next), nil }})
		result := started(t, s)
		time.Sleep(2 * time.Second)
		synctest.Wait()
		if _, changed, _, err := s.Reread(); err != nil || !slices.Equal(changed, []string{"w"}) {
			t.Fatalf("reread: %v %v", changed, err)
		}
		if err := s.RollingUpdate(t.Context(), "w", 1); err != nil {
			t.Fatal(err)
		}
		if got := sp.Spawned(); len(got) != 2 {
			t.Errorf("spawns %v, want only the first two", got)
		}
		if _, changed, _, _ := s.Reread(); len(changed) != 0 {
			t.Errorf("still changed after the rolling update: %v", changed)
		}
		s.Shutdown()
		<-result
	})
}

// TestPlainPoolReport: a group without a scaler keeps no status record
// until something reports (the record is made on first use), yet its pool
// is reported with its name and numprocs bounds; a rolling restart's
// progress is shown while it runs and cleared after.
func TestPlainPoolReport(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newPooled(configOf(t.TempDir(), pool(2, 2, 0, 0)), pooledOptions{Spawner: newFakeSpawner()})
		result := started(t, s)
		time.Sleep(2 * time.Second)
		synctest.Wait()
		pl := s.current(s.Group("w"))
		if pl.status != nil {
			t.Errorf("a plain group's pool has a status record before any report: %+v", *pl.status)
		}
		if st := s.WorkerPools()[0]; st.Group != "w" || st.Min != 2 || st.Max != 2 ||
			st.Workers != 2 || st.Processes != 2 || st.Scaling || st.Rolling != "" {
			t.Errorf("pool = %+v, want group w, bounds 2-2, 2 workers of 2, no scaling, no roll", st)
		}
		done := make(chan error, 1)
		go func() { done <- s.RollingRestart(t.Context(), "w", 1) }()
		synctest.Wait()
		if st := s.WorkerPools()[0]; st.Group != "w" || st.Rolling == "" {
			t.Errorf("during the roll: pool = %+v, want its progress", st)
		}
		for range 10 {
			time.Sleep(time.Second)
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if st := s.WorkerPools()[0]; st.Group != "w" || st.Rolling != "" || st.Workers != 2 {
			t.Errorf("after the roll: pool = %+v", st)
		}
		s.Shutdown()
		<-result
	})
}
