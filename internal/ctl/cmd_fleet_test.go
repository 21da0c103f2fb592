package ctl

import (
	"bytes"
	"strings"
	"testing"

	"github.com/drover/drover/internal/wire"
)

func TestFleetFormatting(t *testing.T) {
	if got := stateCounts(map[string]int{"FATAL": 1, "RUNNING": 3, "BACKOFF": 2}); got != "RUNNING 3, BACKOFF 2, FATAL 1" {
		t.Errorf("stateCounts = %q", got)
	}
	if got := stateCounts(nil); got != "-" {
		t.Errorf("stateCounts(nil) = %q", got)
	}
	if got := labelList(map[string]string{"role": "worker", "az": "a"}); got != "az=a,role=worker" {
		t.Errorf("labelList = %q", got)
	}
	nodes := []wire.FleetNode{
		{Name: "a", Groups: []wire.FleetGroup{{Name: "web"}, {Name: "worker"}}},
		{Name: "b", Groups: []wire.FleetGroup{{Name: "web"}}},
	}
	got := onlyGroup(nodes, "worker")
	if len(got) != 1 || got[0].Name != "a" || len(got[0].Groups) != 1 || got[0].Groups[0].Name != "worker" {
		t.Errorf("onlyGroup = %+v", got)
	}
	if len(nodes[0].Groups) != 2 {
		t.Errorf("onlyGroup changed its input: %+v", nodes[0])
	}
}

// TestShowFleet: the node and pool lines end without spaces (a pool with
// no queue name too), and a scaling pool's queue figures follow its pool.
func TestShowFleet(t *testing.T) {
	var out bytes.Buffer
	c := &controller{out: &out}
	c.showFleet([]wire.FleetNode{{Name: "a", State: wire.FleetUp, AgeMS: 1200, Version: "1.4.0",
		Counts: map[string]int{"RUNNING": 3}, Groups: []wire.FleetGroup{
			{Name: "fixed", Pool: &wire.FleetPool{Workers: 1, Target: 1, Min: 1, Max: 1}},
			{Name: "capped", Pool: &wire.FleetPool{Workers: 1, Target: 1, Min: 1, Max: 4, FleetMax: 6, FleetTotal: 5, Leased: 1}},
			{Name: "worker", Pool: &wire.FleetPool{Workers: 2, Busy: 1, Target: 3, Min: 1, Max: 4, Queue: "default",
				QueueFigures: &wire.FleetQueue{Ready: 120, Delayed: 3, Reserved: 2, OldestWaitMS: 2400, SampledMS: 1}}},
			{Name: "mail", Pool: &wire.FleetPool{Workers: 1, Target: 1, Min: 1, Max: 4, Queue: "mail",
				QueueFigures: &wire.FleetQueue{Ready: 7, SampledMS: 1, Unreachable: true}}},
		}}})
	want := `NODE             STATE  BEAT       VERSION    PROCESSES
a                up     1.2s ago   1.4.0      RUNNING 3
                 pool fixed: 1 workers (0 busy), target 1 [1-1]
                 pool capped: 1 workers (0 busy), target 1 [1-4]; fleet_max 6: 5 leased in the fleet, 1 here
                 pool worker: 2 workers (1 busy), target 3 [1-4] default
                 queue default: ready 120  due 0  delayed 3  in flight 2  expired 0  oldest wait 2s
                 pool mail: 1 workers (0 busy), target 1 [1-4] mail
                 queue mail: UNREACHABLE; last sample: ready 7  due 0  delayed 0  in flight 0  expired 0  oldest wait 0s
`
	if out.String() != want {
		t.Errorf("fleet status:\n%s\nwant:\n%s", out.String(), want)
	}
}

func TestParseFleetAction(t *testing.T) {
	a, err := parseFleetAction("restart", []string{"--rolling", "worker", "--batch", "2", "--label", "az=a", "--label=role=worker"})
	if err != nil || !a.rolling || a.batch != 2 || a.group != "worker" || a.labels["az"] != "a" || a.labels["role"] != "worker" {
		t.Errorf("parse = %+v, %v", a, err)
	}
	for _, words := range [][]string{{}, {"a", "b"}, {"worker", "--batch", "2"}, {"worker", "--label", "x"},
		{"worker", "--batch"}, {"--rolling", "worker", "--batch", "0"}, {"worker", "--force"}} {
		if _, err := parseFleetAction("restart", words); err == nil {
			t.Errorf("%q: no error", words)
		}
	}
	if _, err := parseFleetAction("stop", []string{"--rolling", "worker"}); err == nil {
		t.Errorf("stop --rolling: no error")
	}
	nodes := []wire.FleetNode{
		{Name: "a", State: wire.FleetUp, Labels: map[string]string{"az": "a"}, Groups: []wire.FleetGroup{{Name: "worker"}}},
		{Name: "b", State: wire.FleetStale, Labels: map[string]string{"az": "b"}, Groups: []wire.FleetGroup{{Name: "worker"}}},
		{Name: "c", State: wire.FleetGone, Labels: map[string]string{"az": "a"}, Groups: []wire.FleetGroup{{Name: "worker"}}},
		{Name: "d", State: wire.FleetUp, Labels: map[string]string{"az": "a"}, Groups: []wire.FleetGroup{{Name: "web"}}},
	}
	names := func(ns []wire.FleetNode) (out []string) {
		for _, n := range ns {
			out = append(out, n.Name)
		}
		return out
	}
	a = fleetAction{group: "worker", labels: map[string]string{}}
	if got := names(a.targets(nodes)); strings.Join(got, ",") != "a,b" {
		t.Errorf("targets = %v", got)
	}
	a.labels["az"] = "a"
	if got := names(a.targets(nodes)); strings.Join(got, ",") != "a" {
		t.Errorf("targets az=a = %v", got)
	}
}
