package supervisor

import (
	"bytes"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/queue"
)

func TestJobLines(t *testing.T) {
	const (
		start = "[2026-11-25 17:02:05][xHbTR7CD] Processing: App\\Jobs\\ProcessThing\n"
		done  = "[2026-11-25 17:02:05][xHbTR7CD] Processed:  App\\Jobs\\ProcessThing\n"
		fail  = "[2026-11-25 17:02:06][xHbTR7CD] Failed:     App\\Jobs\\ProcessThing\n"
	)
	tests := []struct {
		name         string
		writes       []string
		busy         bool
		done, failed int64
	}{
		{"nothing yet", nil, false, 0, 0},
		{"job started", []string{start}, true, 0, 0},
		{"job done", []string{start, done}, false, 1, 0},
		{"job failed", []string{start, fail}, false, 0, 1},
		{"line split across writes", []string{start[:20], start[20:40], start[40:]}, true, 0, 0},
		{"line not finished", []string{start[:len(start)-1]}, false, 0, 0},
		{"two lines in one write", []string{start + done}, false, 1, 0},
		{"next job", []string{start + done + start}, true, 1, 0},
		{"other output", []string{start, "production.ERROR: boom Processed: nothing\n"}, true, 0, 0},
		{"long line then a marker", []string{string(bytes.Repeat([]byte("x"), 5000)) + "\n", start}, true, 0, 0},
		{"two outcomes", []string{start + fail + start + done}, false, 1, 1},
	}
	for _, tt := range tests {
		var log bytes.Buffer
		tr := &jobTracker{inner: &log, counts: &jobCounts{}}
		cw := tr.ForSpawn()
		var all string
		for _, w := range tt.writes {
			if n, err := cw.Write([]byte(w)); n != len(w) || err != nil {
				t.Fatalf("%s: Write = %d, %v", tt.name, n, err)
			}
			all += w
		}
		if tr.busy.Load() != tt.busy || log.String() != all {
			t.Errorf("%s: busy %v, want %v; log %q", tt.name, tr.busy.Load(), tt.busy, log.String())
		}
		if d, f := tr.counts.done.Load(), tr.counts.failed.Load(); d != tt.done || f != tt.failed {
			t.Errorf("%s: done %d failed %d, want %d and %d", tt.name, d, f, tt.done, tt.failed)
		}
		// A new child starts idle.
		tr.ForSpawn()
		if tr.busy.Load() {
			t.Errorf("%s: busy after a new spawn", tt.name)
		}
	}
}

func TestScaleDownPrefersIdleWorkers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := &fakeQueue{}
		g := pool(3, 3, 1, 3)
		for _, p := range append(g.Processes, g.Spares...) {
			p.Extra = map[string]string{"numprocs_max": "3"}
		}
		s := New(configOf(t.TempDir(), g), Options{Spawner: newFakeSpawner("w:w_02"),
			Queues: func(config.QueueSource) queue.Source { return q }})
		result := started(t, s)
		q.set(queue.Sample{Ready: 0, Reserved: 1}, nil) // w_02 runs a job
		s.pools.jobs["w:w_02"].busy.Store(true)
		time.Sleep(time.Second)
		synctest.Wait()
		if got := processStates(s); !slices.Equal(got, []string{"w_00=RUNNING", "w_02=RUNNING"}) {
			t.Fatalf("processes = %v, want the idle w_01 stopped first", got)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		if got := processStates(s); !slices.Equal(got, []string{"w_02=RUNNING"}) {
			t.Fatalf("processes = %v, want the busy w_02 kept", got)
		}
		if st := s.WorkerPools()[0]; st.Busy != 1 {
			t.Errorf("pool = %+v, want Busy 1", st)
		}
		s.Shutdown()
		<-result
	})
}
