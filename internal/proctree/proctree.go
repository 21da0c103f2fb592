package proctree

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// Entry is what the table keeps of one process.
type Entry struct {
	PPID int
	RSS  int64 // resident set size in bytes
}

// Table maps pids to their parent and RSS.
type Table map[int]Entry

// Read reads every process under procfs (normally "/proc"). Processes that
// exit while it reads are skipped.
func Read(procfs string) (Table, error) {
	dir, err := os.ReadDir(procfs)
	if err != nil {
		return nil, fmt.Errorf("read process table: %w", err)
	}
	page := int64(os.Getpagesize())
	t := make(Table, len(dir))
	for _, d := range dir {
		pid, err := strconv.Atoi(d.Name())
		if err != nil || pid <= 0 {
			continue
		}
		data, err := os.ReadFile(filepath.Join(procfs, d.Name(), "stat"))
		if err != nil {
			continue
		}
		if e, ok := parseStat(data, page); ok {
			t[pid] = e
		}
	}
	return t, nil
}

// parseStat reads ppid (field 4) and rss in pages (field 24) of
// /proc/<pid>/stat. The command name (field 2) is parenthesised and may hold
// spaces and parentheses, so fields are counted after its last ')'.
func parseStat(data []byte, page int64) (Entry, bool) {
	end := bytes.LastIndexByte(data, ')')
	if end < 0 {
		return Entry{}, false
	}
	f := bytes.Fields(data[end+1:])
	// f[0] is field 3 (state): ppid is f[1], rss is f[21].
	if len(f) < 22 {
		return Entry{}, false
	}
	ppid, err1 := strconv.Atoi(string(f[1]))
	rss, err2 := strconv.ParseInt(string(f[21]), 10, 64)
	if err1 != nil || err2 != nil {
		return Entry{}, false
	}
	return Entry{PPID: ppid, RSS: rss * page}, true
}

// TreeRSS sums the RSS of pid and of every descendant in t; 0 when pid is
// not in t.
func (t Table) TreeRSS(pid int) int64 {
	if _, ok := t[pid]; !ok {
		return 0
	}
	children := map[int][]int{}
	for p, e := range t {
		children[e.PPID] = append(children[e.PPID], p)
	}
	var sum int64
	seen := map[int]bool{}
	stack := []int{pid}
	for len(stack) > 0 {
		p := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[p] {
			continue
		}
		seen[p] = true
		sum += t[p].RSS
		stack = append(stack, children[p]...)
	}
	return sum
}
