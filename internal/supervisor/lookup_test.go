package supervisor

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/drover/drover/internal/config"
)

// newSupervisor returns New(cfg, opts), failing t if New could not create the groups.
func newSupervisor(t *testing.T, cfg *config.Config, opts Options) *Supervisor {
	t.Helper()
	s := New(cfg, opts)
	if s.initErr != nil {
		t.Fatal(s.initErr)
	}
	return s
}

func TestLookup(t *testing.T) {
	cfg := configOf(t.TempDir(),
		program("web", 10, 1),
		program("worker", 20, 3),
		heterogeneous("grp", 5, proc("", "a", 1), proc("", "b", 2)),
	)
	s := newSupervisor(t, cfg, Options{})
	tests := []struct {
		namespec string
		want     []string
		wildcard bool
		err      error
	}{
		{"web", []string{"web"}, false, nil},
		{"web:web", []string{"web"}, false, nil},
		{"web:*", []string{"web"}, true, nil},
		{"worker:worker_01", []string{"worker:worker_01"}, false, nil},
		{"worker:*", []string{"worker:worker_00", "worker:worker_01", "worker:worker_02"}, true, nil},
		{"worker:", []string{"worker:worker_00", "worker:worker_01", "worker:worker_02"}, true, nil},
		{"worker", nil, false, ErrBadName},
		{"worker_01", nil, false, ErrBadName},
		{"worker:nope", nil, false, ErrBadName},
		{"grp:a", []string{"grp:a"}, false, nil},
		{"grp:*", []string{"grp:a", "grp:b"}, true, nil},
		{"grp", nil, false, ErrBadName},
		{"nope:*", nil, false, ErrBadName},
		{"all", nil, false, ErrBadName},
		{"", nil, false, ErrBadName},
		{":", nil, false, ErrBadName},
		{"web:web:web", nil, false, ErrBadName},
	}
	for _, tt := range tests {
		ps, wildcard, err := s.Lookup(tt.namespec)
		if got := names(ps); !slices.Equal(got, tt.want) || wildcard != tt.wildcard || !errors.Is(err, tt.err) {
			t.Errorf("Lookup(%q) = %v, %v, %v; want %v, %v, %v", tt.namespec, got, wildcard, err, tt.want, tt.wildcard, tt.err)
		}
	}
}

func TestOrders(t *testing.T) {
	cfg := configOf(t.TempDir(),
		heterogeneous("z", 1, proc("", "y", 5), proc("", "x", 7)),
		program("b", 10, 1),
		program("a", 10, 2),
	)
	s := newSupervisor(t, cfg, Options{})
	if got, want := names(s.AllProcesses()), []string{"a:a_00", "a:a_01", "b", "z:x", "z:y"}; !slices.Equal(got, want) {
		t.Errorf("AllProcesses() = %v, want %v", got, want)
	}
	// A group activated later goes after its priority peers.
	late, err := s.newGroup(program("0late", 10, 1))
	if err != nil {
		t.Fatal(err)
	}
	s.insertLocked(late)

	var groups []string
	for _, g := range s.Groups() {
		groups = append(groups, g.Config.Name)
	}
	if want := []string{"z", "b", "a", "0late"}; !slices.Equal(groups, want) {
		t.Errorf("Groups() = %v, want %v", groups, want)
	}
	if got, want := names(s.ProcessesByPriority()), []string{"z:y", "z:x", "b", "a:a_00", "a:a_01", "0late"}; !slices.Equal(got, want) {
		t.Errorf("ProcessesByPriority() = %v, want %v", got, want)
	}
	if got, want := names(s.AllProcesses()), []string{"0late", "a:a_00", "a:a_01", "b", "z:x", "z:y"}; !slices.Equal(got, want) {
		t.Errorf("AllProcesses() = %v, want %v", got, want)
	}
	// AllProcesses keeps its last answer while the groups are the same:
	// a group replaced (as a process added or removed replaces it) or
	// removed is seen.
	s.mu.Lock()
	a := *s.groups["a"]
	a.Processes = a.Processes[1:]
	s.groups["a"] = &a
	s.mu.Unlock()
	if got, want := names(s.AllProcesses()), []string{"0late", "a:a_01", "b", "z:x", "z:y"}; !slices.Equal(got, want) {
		t.Errorf("AllProcesses() after a group changed = %v, want %v", got, want)
	}
	s.mu.Lock()
	delete(s.groups, "b")
	s.mu.Unlock()
	if got, want := names(s.AllProcesses()), []string{"0late", "a:a_01", "z:x", "z:y"}; !slices.Equal(got, want) {
		t.Errorf("AllProcesses() after a group left = %v, want %v", got, want)
	}
}

// BenchmarkAllProcesses lists 500 programs in getAllProcessInfo's order,
// as every `status` does.
func BenchmarkAllProcesses(b *testing.B) {
	var groups []*config.Group
	for i := range 500 {
		groups = append(groups, program(fmt.Sprintf("p%04d", (i*7919)%500), 999, 1))
	}
	s := New(configOf(b.TempDir(), groups...), Options{})
	if s.initErr != nil {
		b.Fatal(s.initErr)
	}
	b.ReportAllocs()
	for b.Loop() {
		if len(s.AllProcesses()) != 500 {
			b.Fatal("not 500")
		}
	}
}
