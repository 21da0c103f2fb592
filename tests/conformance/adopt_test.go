package conformance

import (
	"maps"
	"slices"
	"testing"
)

// TestAdoptChangesSharedNames: a program moved out of its group, whose new
// group alone is added, runs in both groups under the same process names
// (Supervisor and Drover both log "success: worker_2" twice with no
// "spawned:" between after `restart all`), so those streams are shared.
func TestAdoptChangesSharedNames(t *testing.T) {
	worker := program{name: "worker", numprocs: 3}
	api := program{name: "api", numprocs: 1}
	active := config{programs: []program{worker, api}, groups: []group{{name: "back", programs: []string{"worker", "api"}}}}
	read := config{programs: []program{worker, api}, groups: []group{{name: "back", programs: []string{"api"}}}}

	shared := map[string]bool{}
	got := adoptChanges(active, read, "worker: added process group\n", shared)
	if want := []string{"worker_0", "worker_1", "worker_2"}; !slices.Equal(slices.Sorted(maps.Keys(shared)), want) {
		t.Errorf("shared = %v; want %v", slices.Sorted(maps.Keys(shared)), want)
	}
	if g := got.groupOf("worker"); g != "back" {
		t.Errorf("worker's group = %q; want back (the first kept)", g)
	}

	shared = map[string]bool{}
	adoptChanges(active, read, "back: updated process group\nworker: added process group\n", shared)
	if len(shared) != 0 {
		t.Errorf("update of both groups: shared = %v; want none", shared)
	}
}
