package fleet

import (
	"encoding/json"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/drover/drover/internal/process"
	"github.com/drover/drover/internal/supervisor"
	"github.com/drover/drover/internal/wire"
)

func TestClassify(t *testing.T) {
	beat := time.Unix(1000, 0)
	const interval = 5 * time.Second
	for _, tc := range []struct {
		age     time.Duration
		present bool
		want    string
	}{
		{0, true, wire.FleetUp},
		{10 * time.Second, true, wire.FleetUp}, // two intervals: not yet stale
		{10*time.Second + time.Millisecond, true, wire.FleetStale},
		{14 * time.Second, true, wire.FleetStale},
		{14 * time.Second, false, wire.FleetGone}, // expired early: gone all the same
		{time.Hour, false, wire.FleetGone},
	} {
		if got := classify(beat.Add(tc.age), beat, interval, tc.present); got != tc.want {
			t.Errorf("age %v present %v: %s, want %s", tc.age, tc.present, got, tc.want)
		}
	}
}

func testSnapshot() supervisor.Snapshot {
	proc := func(name, group string, st process.State, pid int) supervisor.ProcessSnapshot {
		return supervisor.ProcessSnapshot{Info: process.Info{Name: name, Group: group, State: st, PID: pid}}
	}
	return supervisor.Snapshot{Groups: []supervisor.GroupSnapshot{
		{Name: "web", Processes: []supervisor.ProcessSnapshot{proc("web", "web", process.Running, 41)}},
		{Name: "worker", Processes: []supervisor.ProcessSnapshot{
			proc("worker_00", "worker", process.Running, 42),
			proc("worker_01", "worker", process.Backoff, 0),
		}, Pool: &supervisor.WorkerPool{Workers: 2, Busy: 1, Min: 2, Max: 4, QueueNames: []string{"default", "mail"},
			Scaling: true, QueueOK: true, SampledAt: time.UnixMilli(1_700_000_000_000),
			Sample: supervisor.QueueSample{Ready: 5, Delayed: 2, Reserved: 1, OldestWait: 1500 * time.Millisecond}}},
		{Name: "fixed", Processes: []supervisor.ProcessSnapshot{proc("fixed", "fixed", process.Running, 43)},
			Pool: &supervisor.WorkerPool{Workers: 1, Min: 1, Max: 1}},
	}}
}

func TestEncodeRoundTrip(t *testing.T) {
	beat := time.UnixMilli(1_700_000_000_123)
	info := memberInfo{name: "n1", labels: map[string]string{"role": "worker"}, interval: 300 * time.Millisecond}
	n := encode(testSnapshot(), info, beat)
	if !maps.Equal(n.Counts, map[string]int{"RUNNING": 3, "BACKOFF": 1}) {
		t.Errorf("counts = %v", n.Counts)
	}
	body, err := json.Marshal(n)
	if err != nil {
		t.Fatal(err)
	}
	// A reader 400 ms later sees it up, with its groups and pool.
	got := decodeNodes([]string{"n1"}, []redis.Z{{Score: float64(beat.UnixMilli()), Member: "n1"}},
		[]any{string(body)}, beat.Add(400*time.Millisecond))
	if len(got) != 1 {
		t.Fatalf("nodes = %+v", got)
	}
	g := got[0]
	if g.State != wire.FleetUp || g.AgeMS != 400 || g.IntervalMS != 300 || g.Labels["role"] != "worker" ||
		len(g.Groups) != 3 || g.Groups[1].Pool == nil || g.Groups[1].Pool.Queue != "default,mail" ||
		g.Groups[1].Pool.Target != 2 || g.Groups[1].Processes[1].State != "BACKOFF" || g.Groups[0].Processes[0].PID != 41 {
		t.Errorf("decoded %+v", g)
	}
	// A body claiming another node's name is shown under its own key.
	forged := strings.Replace(string(body), `"name":"n1"`, `"name":"n2"`, 1)
	if forged == string(body) {
		t.Fatalf("no name in the snapshot %s", body)
	}
	if got := decodeNodes([]string{"n1"}, []redis.Z{{Score: float64(beat.UnixMilli())}}, []any{forged}, beat); got[0].Name != "n1" {
		t.Errorf("a snapshot claiming n2 under n1's key shows as %q", got[0].Name)
	}
	// The scaling pool carries its queue sample, the fixed one none.
	want := wire.FleetQueue{Ready: 5, Delayed: 2, Reserved: 1, OldestWaitMS: 1500, SampledMS: 1_700_000_000_000}
	if q := g.Groups[1].Pool.QueueFigures; q == nil || *q != want {
		t.Errorf("queue figures %+v, want %+v", q, want)
	}
	if len(g.Groups) == 3 && (g.Groups[2].Pool == nil || g.Groups[2].Pool.QueueFigures != nil) {
		t.Errorf("fixed pool %+v", g.Groups[2].Pool)
	}
	// 700 ms: more than two beats missed, key still there: stale.
	got = decodeNodes([]string{"n1"}, []redis.Z{{Score: float64(beat.UnixMilli())}}, []any{string(body)}, beat.Add(700*time.Millisecond))
	if got[0].State != wire.FleetStale {
		t.Errorf("at 700ms: %s", got[0].State)
	}
}

func TestDecodeGoneAndUnreadable(t *testing.T) {
	now := time.UnixMilli(10_000)
	got := decodeNodes([]string{"b", "a"},
		[]redis.Z{{Score: 9_000}, {Score: 8_000}}, []any{nil, "{not json"}, now)
	if len(got) != 2 || got[0].Name != "a" || got[1].Name != "b" {
		t.Fatalf("nodes = %+v", got)
	}
	for _, n := range got {
		if n.State != wire.FleetGone || n.Groups != nil {
			t.Errorf("%s: %+v", n.Name, n)
		}
	}
	if got[1].AgeMS != 1000 {
		t.Errorf("age of b = %d", got[1].AgeMS)
	}
}
