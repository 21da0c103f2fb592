package ctl

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode"

	"github.com/drover/drover/internal/wire"
)

// FuzzFleetStatus: the fleet's snapshots come from Redis, where any
// client allowed to write can put anything. Whatever they hold, `fleet
// status` (with or without a group) prints without a panic, one line per
// call, and nothing in them reaches the terminal as a control character:
// no forged line, no escape sequence.
func FuzzFleetStatus(f *testing.F) {
	seed, _ := json.Marshal([]wire.FleetNode{{Name: "a", State: wire.FleetUp, AgeMS: 1200, Version: "1.4.0",
		Counts: map[string]int{"RUNNING": 3}, Labels: map[string]string{"az": "a"}, Groups: []wire.FleetGroup{
			{Name: "w", Processes: []wire.FleetProcess{{Name: "w_00", State: "RUNNING", PID: 7}},
				Pool: &wire.FleetPool{Workers: 2, Busy: 1, Target: 3, Min: 1, Max: 4, Queue: "default", FleetMax: 6, FleetTotal: 5,
					QueueFigures: &wire.FleetQueue{Ready: 120, OldestWaitMS: 2400, Unreachable: true}}}}}})
	f.Add(seed, "w")
	f.Add([]byte(`[{"name":"a\nb  up","version":"\u001b[2J","groups":[{"name":"w\r"}]}]`), "w\r")
	f.Fuzz(func(t *testing.T, snapshots []byte, group string) {
		var nodes []wire.FleetNode
		if json.Unmarshal(snapshots, &nodes) != nil {
			return
		}
		var out bytes.Buffer
		c := &controller{out: &out}
		c.showFleet(nodes)
		want := 1 // the header, or "no node in the fleet yet"
		for _, n := range nodes {
			want++
			for _, g := range n.Groups {
				if g.Pool != nil {
					want++
					if g.Pool.QueueFigures != nil {
						want++
					}
				}
			}
		}
		checkLines(t, out.String(), want)
		out.Reset()
		only := onlyGroup(nodes, group)
		c.showFleetGroup(only)
		want = 0
		for _, n := range only {
			want += len(n.Groups[0].Processes)
		}
		checkLines(t, out.String(), want)
	})
}

// checkLines fails unless out is want lines with no control character.
func checkLines(t *testing.T, out string, want int) {
	t.Helper()
	lines := strings.Split(out, "\n")
	if lines[len(lines)-1] != "" || len(lines)-1 != want {
		t.Fatalf("%d lines, want %d:\n%q", len(lines)-1, want, out)
	}
	for _, l := range lines {
		if i := strings.IndexFunc(l, unicode.IsControl); i >= 0 {
			t.Fatalf("control character %q in %q", l[i], l)
		}
	}
}
