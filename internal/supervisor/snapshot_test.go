package supervisor

import (
	"reflect"
	"testing"
	"testing/synctest"
)

// SnapshotInto a snapshot of another shape (more groups, more processes,
// a pool where there is none now) gives what a fresh Snapshot gives; into
// its own last snapshot, it reuses that memory.
func TestSnapshotIntoReuses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		pooled := func(g *Group) (WorkerPool, bool) {
			return WorkerPool{Group: g.Config.Name, Workers: 1}, g.Config.Name == "b"
		}
		s := New(configOf(t.TempDir(), program("a", 1, 2), program("b", 2, 1)), Options{Spawner: newFakeSpawner(), Hooks: Hooks{Pool: pooled}})
		started(t, s)
		synctest.Wait()
		old := ProcessSnapshot{Namespec: "stale", Description: "stale"}
		snap := Snapshot{RecentRestarts: 9, Groups: []GroupSnapshot{
			{Name: "x", Processes: []ProcessSnapshot{old, old, old}, Pool: &WorkerPool{Group: "x", Max: 7}},
			{Name: "y", Processes: []ProcessSnapshot{old}},
			{Name: "z", Processes: []ProcessSnapshot{old}, Pool: &WorkerPool{Group: "z"}},
		}}
		s.SnapshotInto(&snap)
		if want := s.Snapshot(); !reflect.DeepEqual(snap, want) {
			t.Fatalf("SnapshotInto:\n%+v\nSnapshot:\n%+v", snap, want)
		}
		procs, pool := &snap.Groups[0].Processes[0], snap.Groups[1].Pool
		s.SnapshotInto(&snap)
		if &snap.Groups[0].Processes[0] != procs || snap.Groups[1].Pool != pool {
			t.Error("the second snapshot is in new memory")
		}
		if want := s.Snapshot(); !reflect.DeepEqual(snap, want) {
			t.Fatalf("second SnapshotInto:\n%+v\nSnapshot:\n%+v", snap, want)
		}
	})
}
