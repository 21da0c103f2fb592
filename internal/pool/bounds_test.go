package pool

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/queue"
	"github.com/drover/drover/internal/supervisor"
)

func TestSetPoolBounds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := &fakeQueue{}
		s := newPooled(configOf(t.TempDir(), pool(1, 4, 1, 4), program("fixed", 2, 1)), pooledOptions{
			Spawner: newFakeSpawner(), Queues: func(config.QueueSource) queue.Source { return q }})
		result := started(t, s)
		time.Sleep(2 * time.Second) // w_00 past startsecs
		synctest.Wait()
		for _, tt := range []struct {
			group  string
			lo, hi int
			want   error
		}{
			{"w", 2, 1, ErrBadBounds},
			{"w", 0, 2, ErrBadBounds},
			{"w", 1, 5, ErrBadBounds}, // beyond numprocs_max
			{"fixed", 1, 1, ErrBadBounds},
			{"nope", 1, 1, supervisor.ErrBadName},
		} {
			if err := s.SetPoolBounds(tt.group, tt.lo, tt.hi); !errors.Is(err, tt.want) {
				t.Errorf("SetPoolBounds(%s, %d, %d) = %v, want %v", tt.group, tt.lo, tt.hi, err, tt.want)
			}
		}
		if st := s.WorkerPools()[1]; st.Min != 1 || st.Max != 4 {
			t.Fatalf("refused bounds changed the pool: %+v", st)
		}

		// A raised floor is kept at once, without waiting for the tick.
		if err := s.SetPoolBounds("w", 3, 4); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if got := processStates(s); !slices.Equal(got, []string{"w_00=RUNNING", "w_01=STARTING", "w_02=STARTING"}) {
			t.Fatalf("after min 3: %v", got)
		}
		if st := s.WorkerPools()[1]; st.Min != 3 || st.Max != 4 || st.Target != 3 {
			t.Errorf("pool = %+v", st)
		}
		// A lowered ceiling shrinks at once.
		if err := s.SetPoolBounds("w", 1, 1); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if got := processStates(s); !slices.Equal(got, []string{"w_00=RUNNING"}) {
			t.Fatalf("after max 1: %v", got)
		}
		s.Shutdown()
		<-result
	})
}

// grants is a Limiter that grants at most free workers in all.
type grants struct {
	mu       sync.Mutex
	free     int
	acquired []int // what each Acquire asked for
	released int
}

func (l *grants) Acquire(group string, n int) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.acquired = append(l.acquired, n)
	n = min(n, l.free)
	l.free -= n
	return n
}

func (l *grants) Release(group string, n int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.free += n
	l.released += n
}

func TestLimiter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := &fakeQueue{}
		lim := &grants{free: 1}
		m := New(Options{Queues: func(config.QueueSource) queue.Source { return q }, Limiter: lim})
		g := pool(1, 4, 1, 4)
		g.Scaling.Step = 4
		core := supervisor.New(configOf(t.TempDir(), g), supervisor.Options{Spawner: newFakeSpawner(),
			Hooks: m.Hooks(supervisor.Hooks{})})
		m.Bind(core)
		s := &Supervisor{core, m}
		result := started(t, s)

		q.set(queue.Sample{Ready: 10}, nil)
		time.Sleep(time.Second)
		synctest.Wait()
		if got := processStates(s); !slices.Equal(got, []string{"w_00=RUNNING", "w_01=STARTING"}) {
			t.Fatalf("with one grant: %v", got)
		}
		if st := s.WorkerPools()[0]; st.Decision != "grow to 4 (want 4): 10 ready, 0 due, 0 in flight, 1 workers (limiter granted 1 of 3)" {
			t.Errorf("decision %q", st.Decision)
		}
		// Back to numprocs_min: only the acquired worker is released.
		q.set(queue.Sample{}, nil)
		for range 3 {
			time.Sleep(time.Second)
			synctest.Wait()
		}
		if got := processStates(s); !slices.Equal(got, []string{"w_00=RUNNING"}) {
			t.Fatalf("after the queue drained: %v", got)
		}
		lim.mu.Lock()
		if lim.released != 1 || lim.free != 1 || lim.acquired[0] != 3 {
			t.Errorf("limiter: acquired %v, released %d, free %d", lim.acquired, lim.released, lim.free)
		}
		lim.mu.Unlock()
		s.Shutdown()
		<-result
	})
}
