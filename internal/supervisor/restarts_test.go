package supervisor

import (
	"testing"
	"time"
)

func TestRecentRestartsAreBounded(t *testing.T) {
	var b restartBook
	now := time.Now()
	for i := range maxRecentRestarts + 5 {
		b.noteRestart(now.Add(time.Duration(i) * time.Millisecond))
	}
	if got := b.since(now.Add(-time.Second)); got != maxRecentRestarts {
		t.Fatalf("since = %d, want the bound %d", got, maxRecentRestarts)
	}
	if got := b.since(now.Add(time.Duration(maxRecentRestarts) * time.Millisecond)); got != 4 {
		t.Fatalf("since the 10,001st = %d, want 4", got)
	}
}

// The counts of a namespec are made at its first restart and survive the
// process: a later tracker of the same namespec (a process replaced by a
// rolling update or the scaler) goes on from them, and one made while the
// first lives shares them.
func TestRestartCountsMadeAtFirstRestartOutliveTheProcess(t *testing.T) {
	var b restartBook
	first := b.tracker("g:w_0")
	first.beforeSpawn("g:w_0") // a start, not a restart
	if len(b.counts) != 0 || first.snapshot() != (RestartCounts{}) {
		t.Fatalf("after a first start: %d namespecs counted, %v", len(b.counts), first.snapshot())
	}
	beside := b.tracker("g:w_0")
	first.beforeSpawn("g:w_0") // a crash
	if got := first.snapshot(); got != (RestartCounts{RestartCrash: 1}) {
		t.Fatalf("after a crash: %v", got)
	}
	beside.spawned.Store(true)
	beside.expect(RestartRolling)
	beside.beforeSpawn("g:w_0")
	later := b.tracker("g:w_0")
	want := RestartCounts{RestartCrash: 1, RestartRolling: 1}
	for name, tr := range map[string]*restartTracker{"first": first, "beside": beside, "later": later} {
		if got := tr.snapshot(); got != want {
			t.Errorf("%s tracker: %v, want %v", name, got, want)
		}
	}
	if other := b.tracker("g:w_1").snapshot(); other != (RestartCounts{}) {
		t.Errorf("another namespec: %v", other)
	}
}
