package pool

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
		name   string
		writes []string
		busy   bool
		counts JobCounts
	}{
		{"nothing yet", nil, false, JobCounts{}},
		{"job started", []string{start}, true, JobCounts{}},
		{"job done", []string{start, done}, false, JobCounts{Done: 1}},
		{"job failed", []string{start, fail}, false, JobCounts{Failed: 1}},
		{"line split across writes", []string{start[:20], start[20:40], start[40:]}, true, JobCounts{}},
		{"line not finished", []string{start[:len(start)-1]}, false, JobCounts{}},
		{"two lines in one write", []string{start + done}, false, JobCounts{Done: 1}},
		{"next job", []string{start + done + start}, true, JobCounts{Done: 1}},
		{"other output", []string{start, "production.ERROR: boom Processed: nothing\n"}, true, JobCounts{}},
		{"long line then a marker", []string{string(bytes.Repeat([]byte("x"), 5000)) + "\n", start}, true, JobCounts{}},
		{"done done failed split", []string{start + done + start + done[:30], done[30:] + start + fail}, false, JobCounts{Done: 2, Failed: 1}},
	}
	for _, tt := range tests {
		var log bytes.Buffer
		tr := &jobTracker{inner: &log, counts: new(jobCounters)}
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
		if got := (JobCounts{Done: tr.counts.done.Load(), Failed: tr.counts.failed.Load()}); got != tt.counts {
			t.Errorf("%s: jobs %+v, want %+v", tt.name, got, tt.counts)
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
		s := newPooled(configOf(t.TempDir(), g), pooledOptions{Spawner: newFakeSpawner("w:w_02"),
			Queues: func(config.QueueSource) queue.Source { return q }})
		result := started(t, s)
		q.set(queue.Sample{Ready: 0, Reserved: 1}, nil) // w_02 runs a job
		s.Pools.jobs.trackers["w:w_02"].busy.Store(true)
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
