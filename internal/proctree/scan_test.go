package proctree

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// keptStatFiles lists the /proc/<pid>/stat files this test process holds
// open, by pid.
func keptStatFiles(t *testing.T) map[int]bool {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	kept := map[int]bool{}
	for _, fd := range fds {
		target, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name()))
		var pid int
		if err == nil && strings.HasSuffix(target, "/stat") {
			if _, err := fmt.Sscanf(target, "/proc/%d/stat", &pid); err == nil {
				kept[pid] = true
			}
		}
	}
	return kept
}

// ownStat reads pid's stat file on its own.
func ownStat(t *testing.T, pid int) Entry {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	e, ok := parseStat(data, int64(os.Getpagesize()))
	if !ok {
		t.Fatalf("unreadable: %q", data)
	}
	return e
}

// startTree starts `sh -c 'sleep 600 & wait'` (a shell with a child) and
// returns it.
func startTree(t *testing.T) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("sh", "-c", "sleep 600 & wait")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { kill(cmd) })
	return cmd
}

// kill ends cmd and its process group, if it leads one, and reaps it.
func kill(cmd *exec.Cmd) {
	syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	cmd.Process.Kill()
	cmd.Wait()
}

// settled reports whether pid and its one child are in table, both with
// some RSS (a child between fork and exec may have none).
func settled(table Table, pid int) bool {
	kids := table.Trees().children[pid]
	return len(kids) == 1 && table[pid].RSS > 0 && table[kids[0]].RSS > 0
}

// A scanner rooted at this process finds its children and grandchildren
// with the figures a full read of /proc gives, keeps their stat files open,
// and closes each when its process exits.
func TestScannerFollowsTheTree(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc:", err)
	}
	a, b := startTree(t), startTree(t)
	s := newScanner("/proc", os.Getpid())
	defer s.close()
	// The shells' sleeps may not be forked yet: read until both are seen.
	var table Table
	var err error
	for range 500 {
		if table, err = s.read(); err != nil {
			t.Fatal(err)
		}
		if settled(table, a.Process.Pid) && settled(table, b.Process.Pid) {
			break
		}
		table = nil
		syscall.Nanosleep(&syscall.Timespec{Nsec: 10e6}, nil)
	}
	if table == nil {
		t.Fatal("the shells' children never showed")
	}
	kept := keptStatFiles(t)
	for _, pid := range []int{os.Getpid(), a.Process.Pid, b.Process.Pid} {
		for _, p := range append([]int{pid}, table.Trees().children[pid]...) {
			if own := ownStat(t, p); table[p].PPID != own.PPID || table[p].RSS <= 0 {
				t.Errorf("pid %d: %+v, its stat file says %+v", p, table[p], own)
			}
			if !kept[p] {
				t.Errorf("pid %d in the tree but its stat file is not kept open", p)
			}
		}
	}
	if _, ok := table[os.Getppid()]; ok {
		t.Errorf("this test's parent %d is in the tree", os.Getppid())
	}
	for p := range kept {
		if _, ok := table[p]; !ok {
			t.Errorf("stat file of pid %d kept open, not in the tree", p)
		}
	}

	// A tree started now is found by listing only the pids allocated since.
	fullAt := s.fullAt
	c := startTree(t)
	var last Table
	for range 500 {
		if last, err = s.read(); err != nil {
			t.Fatal(err)
		}
		if settled(last, c.Process.Pid) {
			break
		}
		syscall.Nanosleep(&syscall.Timespec{Nsec: 10e6}, nil)
	}
	if !settled(last, c.Process.Pid) {
		t.Fatalf("the new tree of %d never showed: %+v, children %v", c.Process.Pid,
			last[c.Process.Pid], last.Trees().children[c.Process.Pid])
	}
	if s.fullAt != fullAt {
		t.Error("/proc was listed whole again")
	}

	gone := append([]int{a.Process.Pid}, table.Trees().children[a.Process.Pid]...)
	kill(a)
	if table, err = s.read(); err != nil {
		t.Fatal(err)
	}
	kept = keptStatFiles(t)
	for _, p := range gone {
		if _, ok := table[p]; ok || kept[p] {
			t.Errorf("pid %d exited: in the table %v, stat file kept %v", p, ok, kept[p])
		}
	}
	if _, ok := table[b.Process.Pid]; !ok {
		t.Errorf("pid %d lost", b.Process.Pid)
	}
	// A pid below the last one listed (they wrapped around) makes the next
	// listing whole.
	s.listedTo = 1 << 30
	if _, err := s.read(); err != nil || s.fullAt == fullAt {
		t.Errorf("no whole listing after a wrap-around (%v)", err)
	}
	// So does a last listing too old to rule out a wrap-around unseen.
	fullAt = s.fullAt
	s.listedAt = s.listedAt.Add(-2 * partialListingGap)
	if _, err := s.read(); err != nil || s.fullAt == fullAt {
		t.Errorf("no whole listing after %v (%v)", 2*partialListingGap, err)
	}
	s.close()
	if kept := keptStatFiles(t); len(kept) > 0 {
		t.Errorf("stat files still open after close: %v", kept)
	}
}

// Past its budget of descriptors a scanner reads the other processes all
// the same, opening their stat files each time.
func TestScannerBudget(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc:", err)
	}
	var kids []int
	for range 4 {
		cmd := exec.Command("sleep", "600")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { kill(cmd) })
		kids = append(kids, cmd.Process.Pid)
	}
	s := newScanner("/proc", os.Getpid())
	defer s.close()
	s.budget = 2
	for round := range 2 {
		table, err := s.read()
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range kids {
			if e, ok := table[p]; !ok || e.PPID != os.Getpid() {
				t.Errorf("round %d: child %d: %+v %v", round, p, e, ok)
			}
		}
		if n := len(keptStatFiles(t)); n != 2 || s.kept != 2 {
			t.Errorf("round %d: %d stat files open (counted %d), want the budget, 2", round, n, s.kept)
		}
	}
}

// A process outside the tree is read once; a new process under its pid
// (another /proc/<pid> directory) is read again, and joins the tree if it
// descends from the root.
func TestScannerPidReused(t *testing.T) {
	procfs := t.TempDir()
	stat := func(pid, ppid, rssPages int) {
		t.Helper()
		dir := filepath.Join(procfs, fmt.Sprint(pid))
		os.MkdirAll(dir, 0o755)
		line := fmt.Sprintf("%d (x) S %d 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 1 1 %d 0\n", pid, ppid, rssPages)
		if err := os.WriteFile(filepath.Join(dir, "stat"), []byte(line), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	stat(1, 0, 1)   // the root
	stat(10, 1, 2)  // in the tree
	stat(20, 99, 3) // outside (its parent is not even listed)
	s := newScanner(procfs, 1)
	defer s.close()
	read := func() Table {
		t.Helper()
		table, err := s.read()
		if err != nil {
			t.Fatal(err)
		}
		return table
	}
	if table := read(); len(table) != 2 || table[10].PPID != 1 {
		t.Fatalf("table %v, want pids 1 and 10", table)
	}
	stat(20, 10, 3) // the same directory: not read again
	if table := read(); len(table) != 2 {
		t.Fatalf("table %v: pid 20 was read again", table)
	}
	// A new process under pid 20, a child of 10. The old directory is
	// kept aside so that the new one cannot take its inode.
	if err := os.Rename(filepath.Join(procfs, "20"), filepath.Join(procfs, "old")); err != nil {
		t.Fatal(err)
	}
	stat(20, 10, 4)
	page := int64(os.Getpagesize())
	table := read()
	if table[20].PPID != 10 || table.Trees().Usage(10).RSS != 6*page {
		t.Fatalf("table %v: the new pid 20 not read, or not under 10", table)
	}
	os.RemoveAll(filepath.Join(procfs, "10"))
	if table := read(); len(table) != 1 {
		t.Fatalf("table %v: pid 10 gone and 20 orphaned, want the root alone", table)
	}
}
