package ctl

import (
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
