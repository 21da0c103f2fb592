package proctree

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestUsage(t *testing.T) {
	table := Table{
		1:  {PPID: 0, RSS: 1000},
		10: {PPID: 1, RSS: 100}, // the supervised process
		11: {PPID: 10, RSS: 20}, // its child
		12: {PPID: 11, RSS: 3},  // grandchild
		13: {PPID: 10, RSS: 4},  // second child
		20: {PPID: 1, RSS: 500}, // unrelated
		21: {PPID: 20, RSS: 50},
	}
	tests := []struct {
		pid  int
		want int64
	}{
		{10, 127},
		{11, 23},
		{12, 3},
		{20, 550},
		{99, 0}, // gone
	}
	trees := table.Trees()
	for _, tt := range tests {
		if got := trees.Usage(tt.pid).RSS; got != tt.want {
			t.Errorf("Usage(%d).RSS = %d, want %d", tt.pid, got, tt.want)
		}
	}
}

func TestUsageCycle(t *testing.T) {
	// A pid reused while the table was read can make a loop; it must end.
	table := Table{5: {PPID: 6, RSS: 1}, 6: {PPID: 5, RSS: 2}}
	if got := table.Trees().Usage(5).RSS; got != 3 {
		t.Fatalf("Usage(5).RSS = %d, want 3", got)
	}
}

// A scanner reads the fields it needs from stat lines, whatever the
// command name holds, and skips what it cannot read.
func TestScanFields(t *testing.T) {
	procfs := t.TempDir()
	page := int64(os.Getpagesize())
	stat := func(pid, ppid int, comm string, rssPages int) string {
		// Fields 1..24 of /proc/<pid>/stat; only 2, 4 and 24 matter here.
		return fmt.Sprintf("%d (%s) S %d 1 1 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 100 12345678 %d 18446744073709551615\n",
			pid, comm, ppid, rssPages)
	}
	files := map[string]string{
		"10/stat":  stat(10, 1, "php", 100),
		"11/stat":  stat(11, 10, "odd ) name (x", 7), // parentheses and spaces in comm
		"12/stat":  "12 (truncated) S 11\n",          // unreadable: skipped
		"self/x":   "",                               // not a pid
		"uptime/x": "",
	}
	for name, content := range files {
		full := filepath.Join(procfs, name)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s := newScanner(procfs, 1)
	defer s.close()
	table, err := s.read()
	if err != nil {
		t.Fatal(err)
	}
	// utime 1 + stime 2 clock ticks, no reaped children.
	cpu := 30 * time.Millisecond
	want := Table{10: {PPID: 1, RSS: 100 * page, CPU: cpu}, 11: {PPID: 10, RSS: 7 * page, CPU: cpu}}
	if len(table) != len(want) || table[10] != want[10] || table[11] != want[11] {
		t.Fatalf("table = %v, want %v", table, want)
	}
	if got, want := table.Trees().Usage(10), (Usage{RSS: 107 * page, CPU: 2 * cpu}); got != want {
		t.Fatalf("Usage = %+v, want %+v", got, want)
	}
}

func TestSamplerSharesAReading(t *testing.T) {
	procfs := t.TempDir()
	write := func(rssPages int) {
		t.Helper()
		os.MkdirAll(filepath.Join(procfs, "10"), 0o755)
		stat := fmt.Sprintf("10 (php) S 1 1 1 0 -1 0 0 0 0 0 1 2 0 0 20 0 1 0 100 1000 %d 0\n", rssPages)
		if err := os.WriteFile(filepath.Join(procfs, "10", "stat"), []byte(stat), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	page := int64(os.Getpagesize())
	rss := func(s *Sampler) int64 {
		t.Helper()
		tr, at, err := s.Trees()
		if err != nil || at.IsZero() {
			t.Fatalf("Trees: %v at %v", err, at)
		}
		return tr.Usage(10).RSS
	}
	write(1)
	shared, fresh := NewSampler(procfs, 1, time.Hour), NewSampler(procfs, 1, 0)
	defer shared.Close()
	defer fresh.Close()
	rss(shared)
	write(2)
	if got := rss(shared); got != page {
		t.Errorf("within maxAge: RSS %d, want the first reading's %d", got, page)
	}
	if got := rss(fresh); got != 2*page {
		t.Errorf("maxAge 0: RSS %d, want %d", got, 2*page)
	}
	if _, _, err := NewSampler(filepath.Join(procfs, "none"), 1, 0).Trees(); err == nil {
		t.Error("no error from a procfs that does not exist")
	}
	fresh.Close()
	if _, _, err := fresh.Trees(); err == nil {
		t.Error("no error from a closed sampler")
	}
}
