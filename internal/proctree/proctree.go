package proctree

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// clockTick is the unit of utime and stime in /proc/<pid>/stat: USER_HZ,
// which is 100 on every Linux architecture Go supports.
const clockTick = 10 * time.Millisecond

// Entry is what the table keeps of one process.
type Entry struct {
	PPID int
	RSS  int64         // resident set size in bytes
	CPU  time.Duration // user plus system time used so far
}

// Table maps pids to their parent, RSS and CPU time.
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

// parseStat reads ppid (field 4), utime and stime in clock ticks (fields 14
// and 15) and rss in pages (field 24) of
// /proc/<pid>/stat. The command name (field 2) is parenthesised and may hold
// spaces and parentheses, so fields are counted after its last ')'.
func parseStat(data []byte, page int64) (Entry, bool) {
	end := bytes.LastIndexByte(data, ')')
	if end < 0 {
		return Entry{}, false
	}
	f := bytes.Fields(data[end+1:])
	// f[0] is field 3 (state): ppid is f[1], utime f[11], stime f[12], rss f[21].
	if len(f) < 22 {
		return Entry{}, false
	}
	ppid, err1 := strconv.Atoi(string(f[1]))
	rss, err2 := strconv.ParseInt(string(f[21]), 10, 64)
	utime, err3 := strconv.ParseInt(string(f[11]), 10, 64)
	stime, err4 := strconv.ParseInt(string(f[12]), 10, 64)
	if err1 != nil || err2 != nil || err3 != nil || err4 != nil {
		return Entry{}, false
	}
	return Entry{PPID: ppid, RSS: rss * page, CPU: time.Duration(utime+stime) * clockTick}, true
}

// TreeRSS sums the RSS of pid and of every descendant in t; 0 when pid is
// not in t.
func (t Table) TreeRSS(pid int) int64 {
	return t.Trees([]int{pid})[pid].RSS
}

// Trees returns, for each of roots found in t, the RSS and CPU time of it
// and every descendant summed (PPID is the root's own). It indexes the
// table once, so many roots cost one pass.
func (t Table) Trees(roots []int) map[int]Entry {
	children := map[int][]int{}
	for p, e := range t {
		children[e.PPID] = append(children[e.PPID], p)
	}
	out := make(map[int]Entry, len(roots))
	for _, pid := range roots {
		root, ok := t[pid]
		if !ok {
			continue
		}
		sum := Entry{PPID: root.PPID}
		seen := map[int]bool{}
		stack := []int{pid}
		for len(stack) > 0 {
			p := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if seen[p] {
				continue
			}
			seen[p] = true
			sum.RSS += t[p].RSS
			sum.CPU += t[p].CPU
			stack = append(stack, children[p]...)
		}
		out[pid] = sum
	}
	return out
}
