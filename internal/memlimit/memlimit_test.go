package memlimit

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/process"
	"github.com/drover/drover/internal/proctree"
	"github.com/drover/drover/internal/supervisor"
	"github.com/drover/drover/internal/supervisor/supervisortest"
)

func TestOverLimit(t *testing.T) {
	tests := []struct {
		name       string
		state      process.State
		rss, limit int64
		restarting bool
		want       bool
	}{
		{"over", process.Running, 300 << 20, 256 << 20, false, true},
		{"at the limit", process.Running, 256 << 20, 256 << 20, false, false},
		{"under", process.Running, 100 << 20, 256 << 20, false, false},
		{"already restarting", process.Running, 300 << 20, 256 << 20, true, false},
		{"starting", process.Starting, 300 << 20, 256 << 20, false, false},
		{"stopping", process.Stopping, 300 << 20, 256 << 20, false, false},
		{"no limit", process.Running, 300 << 20, 0, false, false},
	}
	for _, tt := range tests {
		if got := overLimit(tt.state, tt.rss, tt.limit, tt.restarting); got != tt.want {
			t.Errorf("%s: overLimit = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestFormatMB(t *testing.T) {
	tests := []struct {
		n     int64
		whole bool
		want  string
	}{
		{256 << 20, true, "256 MB"},
		{256 << 20, false, "256.0 MB"},
		{300<<20 + 200<<10, false, "300.2 MB"},
		{1000, true, "0.0 MB"},
	}
	for _, tt := range tests {
		if got := formatMB(tt.n, tt.whole); got != tt.want {
			t.Errorf("formatMB(%d, %v) = %q, want %q", tt.n, tt.whole, got, tt.want)
		}
	}
}

// fakeProc writes a /proc/<pid>/stat with the given parent and RSS in pages.
func fakeProc(t *testing.T, dir string, pid, ppid int, pages int64) {
	t.Helper()
	stat := fmt.Sprintf("%d (x) S %d 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 1 1 %d 0\n", pid, ppid, pages)
	if err := os.MkdirAll(filepath.Join(dir, fmt.Sprint(pid)), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, fmt.Sprint(pid), "stat"), []byte(stat), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestMemorySampleRestartsOverLimit(t *testing.T) {
	dir := t.TempDir()
	page := int64(os.Getpagesize())
	synctest.Test(t, func(t *testing.T) {
		limited := func(name string) *config.Group {
			g := supervisortest.Program(name, 1, 1)
			g.Processes[0].StartSecs = 0
			g.Processes[0].Worker = &config.Worker{MemoryLimit: 10 * page, MemoryCheckInterval: config.DefaultMemoryCheckInterval}
			return g
		}
		sp := supervisortest.NewFakeSpawner()
		s := supervisor.New(supervisortest.ConfigOf(t.TempDir(), limited("fat"), limited("slim"), supervisortest.Program("free", 2, 1)), supervisor.Options{Spawner: sp})
		result := supervisortest.Started(t, s)
		pid := func(name string) int { return supervisortest.LookupOne(t, s.Lookup, name).Info().PID }
		fat, slim := pid("fat"), pid("slim")
		// fat: 6 pages itself + a child of 6 pages = 12 > 10; slim: 9 pages.
		fakeProc(t, dir, fat, 1, 6)
		fakeProc(t, dir, 900, fat, 6)
		fakeProc(t, dir, slim, 1, 9)

		procs := proctree.NewSampler(dir, 1, 0)
		defer procs.Close()
		m := &memoryWatch{s: s, procs: procs, restarting: map[*supervisor.Process]bool{}}
		var restarts sync.WaitGroup
		running, _ := limits(s)
		m.sample(t.Context(), running, &restarts)
		restarts.Wait()
		synctest.Wait()
		if got := sp.Signaled(); !slices.Equal(got, []string{"fat"}) {
			t.Errorf("signalled %v, want [fat]", got)
		}
		if got := sp.Spawned(); !slices.Equal(got, []string{"fat", "slim", "free", "fat"}) {
			t.Errorf("spawned %v, want fat restarted", got)
		}
		if info := supervisortest.LookupOne(t, s.Lookup, "fat").Info(); info.State != process.Running || info.PID == fat {
			t.Errorf("fat after restart: %v pid %d (old %d)", info.State, info.PID, fat)
		}
		for _, g := range s.Snapshot().Groups {
			want := supervisor.RestartCounts{}
			if g.Name == "fat" {
				want[supervisor.RestartMemoryLimit] = 1
			}
			if got := g.Processes[0].Restarts; got != want {
				t.Errorf("%s restarts %v, want %v", g.Name, got, want)
			}
		}
		s.Shutdown()
		<-result
	})
}
