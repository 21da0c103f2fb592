package conformance

import (
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
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

// TestStartupOrders: the spawn order of each start-up, the first and each
// reload's, up to where the harness saw it settled; later spawns (a
// restart) are not part of it.
func TestStartupOrders(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "main.log")
	var b strings.Builder
	var ends []int64
	for _, l := range []string{
		"INFO supervisord started with pid 1",
		"INFO spawned: 'b' with pid 2",
		"INFO spawned: 'a' with pid 3",
		"", // settled
		"INFO spawned: 'a' with pid 4",
		"WARN stopped: a (terminated by SIGTERM)",
		"INFO supervisord started with pid 1",
		"INFO spawned: 'a' with pid 5",
		"INFO spawned: 'c' with pid 6",
		"INFO spawned: 'a' with pid 7",
		"", // settled
		"INFO spawned: 'c' with pid 8",
	} {
		if l == "" {
			ends = append(ends, int64(b.Len()))
			continue
		}
		b.WriteString("2026-12-06 06:00:00,000 " + l + "\n")
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := stateLines(path, dir, ends)
	if err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string][]string{
		"start-up order":                {"b", "a"},
		"start-up order after reload 1": {"a", "c"},
		"start-up order after reload 2": nil,
	} {
		if !slices.Equal(got[key], want) {
			t.Errorf("%s = %q; want %q", key, got[key], want)
		}
	}
}
