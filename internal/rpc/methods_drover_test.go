package rpc

import (
	"context"
	"maps"
	"testing"
	"time"

	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/queue"
	"github.com/drover/drover/internal/xmlrpc"
)

// fixedQueue is a queue source that always reads the same sample.
type fixedQueue struct{ s queue.Sample }

func (q fixedQueue) Sample(context.Context, time.Time) (queue.Sample, error) { return q.s, nil }
func (q fixedQueue) Close() error                                            { return nil }

// TestDroverMethods drives drover.* on a real Supervisor with real children.
func TestDroverMethods(t *testing.T) {
	rpc := serveSupervisor(t, `[supervisord]
logfile=%[1]s/main.log
childlogdir=%[1]s

[program:w]
command=/bin/sleep 1000
process_name=w_%%(process_num)d
numprocs=2
numprocs_max=3
scale_queue=redis-list://127.0.0.1:1/0?key=jobs
scale_interval=1
startsecs=0
stdout_logfile=NONE

[program:single]
command=/bin/sleep 1000
startsecs=0
stdout_logfile=NONE
`, serveOptions{
		Queues: func(config.QueueSource) queue.Source { return fixedQueue{queue.Sample{Ready: 0, Reserved: 2}} }})

	// Both busy workers keep the pool at 2: the sample shows up with the decision.
	deadline := time.Now().Add(30 * time.Second)
	var w map[string]any
	for {
		v, err := rpc("drover.getPools")
		if err != nil {
			t.Fatal(err)
		}
		pools := v.([]any)
		if len(pools) != 2 {
			t.Fatalf("getPools = %v", pools)
		}
		w = pools[1].(map[string]any)
		if w["sampled_at"].(int) != 0 && w["workers"].(int) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("pool w never sampled: %v", w)
		}
		time.Sleep(50 * time.Millisecond)
	}
	want := map[string]any{"group": "w", "scaling": true, "min": 2, "max": 3, "workers": 2, "draining": 0,
		"processes": 2, "target": 2, "queue_ok": true, "reserved": 2, "queue": "redis-list://127.0.0.1:1/0?key=jobs"}
	for k, v := range want {
		if w[k] != v {
			t.Errorf("getPools w[%s] = %v, want %v", k, w[k], v)
		}
	}
	v, _ := rpc("drover.getPools")
	if single := v.([]any)[0].(map[string]any); single["group"] != "single" || single["scaling"] != false || single["max"] != 1 {
		t.Errorf("getPools single = %v", single)
	}

	before := processPIDs(rpc)
	// Nothing changed: a rolling update leaves every process alone.
	if v, err := rpc("drover.rollingUpdate", "w", 2); err != nil || v != true {
		t.Fatalf("rollingUpdate = %v, %v", v, err)
	}
	if after := processPIDs(rpc); !maps.Equal(after, before) {
		t.Errorf("unchanged rolling update: pids %v, were %v", after, before)
	}
	if v, err := rpc("drover.rollingRestart", "w"); err != nil || v != true {
		t.Fatalf("rollingRestart = %v, %v", v, err)
	}
	after := processPIDs(rpc)
	if len(after) != 3 || after["w_0"] == before["w_0"] || after["w_1"] == before["w_1"] || after["single"] != before["single"] {
		t.Errorf("rolling restart: pids %v, were %v", after, before)
	}
	for _, tc := range []struct {
		method, name string
		batch        int
		fault        string
	}{
		{"drover.rollingRestart", "nope", 1, "BAD_NAME: nope"},
		{"drover.rollingRestart", "single", 1, "FAILED: cannot roll: process_name of single has no %(process_num), so no surge worker can start beside it"},
		{"drover.rollingRestart", "w", 100, "FAILED: cannot roll: group w has 4 free spare process numbers, fewer than a batch of 100"},
		{"drover.rollingUpdate", "nope", 1, "BAD_NAME: nope"},
	} {
		_, err := rpc(tc.method, tc.name, tc.batch)
		if f, ok := err.(*xmlrpc.Fault); !ok || f.String != tc.fault {
			t.Errorf("%s(%s) = %v, want fault %q", tc.method, tc.name, err, tc.fault)
		}
	}
}
