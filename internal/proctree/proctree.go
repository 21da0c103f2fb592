package proctree

import (
	"bytes"
	"syscall"
	"time"
)

// Entry is what the table keeps of one process.
type Entry struct {
	PPID int
	RSS  int64 // resident set size in bytes
	// CPU is the user and system time of the process and of the children
	// it has reaped.
	CPU time.Duration
}

// clockTicks is USER_HZ, the unit of the times in /proc/<pid>/stat: 100
// on every architecture Linux and Go share.
const clockTicks = 100

// Table maps pids to what a reading found of them.
type Table map[int]Entry

// readSmall reads a file that fits in buf with one read (a stat line does).
func readSmall(path string, buf []byte) ([]byte, bool) {
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, false
	}
	defer syscall.Close(fd)
	n, err := syscall.Read(fd, buf)
	if err != nil || n <= 0 || n == len(buf) {
		return nil, false
	}
	return buf[:n], true
}

// parseStat reads ppid (field 4), utime, stime, cutime, cstime (14-17) and
// rss in pages (field 24) of /proc/<pid>/stat. The command name (field 2)
// is parenthesised and may hold spaces and parentheses, so fields are
// counted after its last ')'. It allocates nothing: a reading parses
// hundreds of these.
func parseStat(data []byte, page int64) (Entry, bool) {
	end := bytes.LastIndexByte(data, ')')
	if end < 0 {
		return Entry{}, false
	}
	var e Entry
	var ticks, rss int64
	rest := data[end+1:]
	for field := 3; field <= 24; field++ {
		var v []byte
		v, rest = nextField(rest)
		if v == nil {
			return Entry{}, false
		}
		switch {
		case field == 4:
			n, ok := atoi(v)
			if !ok {
				return Entry{}, false
			}
			e.PPID = int(n)
		case field >= 14 && field <= 17:
			n, ok := atoi(v)
			if !ok {
				return Entry{}, false
			}
			ticks += n
		case field == 24:
			n, ok := atoi(v)
			if !ok {
				return Entry{}, false
			}
			rss = n
		}
	}
	e.RSS = rss * page
	e.CPU = time.Duration(ticks) * time.Second / clockTicks
	return e, true
}

// nextField splits the first space-separated field off b; nil when there
// is none.
func nextField(b []byte) (field, rest []byte) {
	i := 0
	for i < len(b) && (b[i] == ' ' || b[i] == '\n') {
		i++
	}
	j := i
	for j < len(b) && b[j] != ' ' && b[j] != '\n' {
		j++
	}
	if i == j {
		return nil, nil
	}
	return b[i:j], b[j:]
}

// atoi parses a decimal integer, with its sign.
func atoi(b []byte) (int64, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

// Usage is what a process tree holds and has used.
type Usage struct {
	RSS int64
	CPU time.Duration
}

// Trees is a Table with the children of each process indexed, to sum many
// trees from one read.
type Trees struct {
	t        Table
	children map[int][]int
}

// Trees indexes t.
func (t Table) Trees() Trees {
	children := map[int][]int{}
	for p, e := range t {
		children[e.PPID] = append(children[e.PPID], p)
	}
	return Trees{t, children}
}

// Usage sums pid and every descendant; zero when pid is not in the table.
func (tr Trees) Usage(pid int) Usage {
	var sum Usage
	if _, ok := tr.t[pid]; !ok {
		return sum
	}
	// Each pid has one parent in the table, so the walk meets a process
	// twice only on a loop (a pid reused while the table was read), and a
	// loop reachable from pid runs through pid itself: skipping pid as a
	// child ends it, with no set of visited pids to allocate.
	stack := []int{pid}
	for len(stack) > 0 {
		p := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		e := tr.t[p]
		sum.RSS += e.RSS
		sum.CPU += e.CPU
		for _, c := range tr.children[p] {
			if c != pid {
				stack = append(stack, c)
			}
		}
	}
	return sum
}

// Process returns the table's entry of pid (zero when it is not there).
func (tr Trees) Process(pid int) Entry { return tr.t[pid] }
