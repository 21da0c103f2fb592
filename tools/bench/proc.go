package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/<pid>/stat;
// it is 100 on every Linux architecture Go supports.
const clockTicks = 100

// cpuSeconds returns utime+stime of pid (all its threads) in seconds.
func cpuSeconds(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("read cpu time: %w", err)
	}
	f, err := statFields(b)
	if err != nil {
		return 0, err
	}
	// Fields after "(comm)" start at field 3 (state): utime is field 14, stime 15.
	ut, err1 := strconv.ParseUint(f[14-3], 10, 64)
	st, err2 := strconv.ParseUint(f[15-3], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("parse cpu time of %d: %w", pid, err)
	}
	return float64(ut+st) / clockTicks, nil
}

// statFields splits /proc/<pid>/stat after the command name, which may hold spaces.
func statFields(b []byte) ([]string, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 > len(b) {
		return nil, fmt.Errorf("parse stat: malformed %q", b)
	}
	f := strings.Fields(string(b[i+2:]))
	if len(f) < 20 {
		return nil, fmt.Errorf("parse stat: short %q", b)
	}
	return f, nil
}

// memMB returns the VmRSS and VmHWM (peak RSS) of pid in MB (2^20 bytes).
func memMB(pid int) (rss, peak float64, err error) {
	mb, err := statusMB(pid, "VmRSS", "VmHWM")
	if err != nil {
		return 0, 0, err
	}
	return mb[0], mb[1], nil
}

// statusMB returns the memory figures keys of /proc/pid/status, in MB.
func statusMB(pid int, keys ...string) ([]float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return nil, fmt.Errorf("read memory: %w", err)
	}
	mb := make([]float64, len(keys))
	for line := range strings.Lines(string(b)) {
		key, val, ok := strings.Cut(line, ":")
		i := slices.Index(keys, key)
		if !ok || i < 0 {
			continue
		}
		kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(val), " kB"), 64)
		if err != nil {
			return nil, fmt.Errorf("parse %s of %d: %w", key, pid, err)
		}
		mb[i] = kb / 1024
	}
	return mb, nil
}

// procIDs returns the Tgid and PPid of the task pid, which may be a thread.
func procIDs(pid int) (tgid, ppid int, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	for line := range strings.Lines(string(b)) {
		key, val, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		switch key {
		case "Tgid":
			tgid, _ = strconv.Atoi(strings.TrimSpace(val))
		case "PPid":
			ppid, _ = strconv.Atoi(strings.TrimSpace(val))
			return tgid, ppid, nil
		}
	}
	return 0, 0, fmt.Errorf("parse status of %d: no PPid", pid)
}

// alive reports whether pid exists, including as a zombie not yet reaped.
func alive(pid int) bool {
	_, err := os.Stat(fmt.Sprintf("/proc/%d", pid))
	return err == nil
}

// parentMap maps every process on the machine to its parent.
func parentMap() map[int]int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	m := make(map[int]int, len(ents))
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		f, err := statFields(b)
		if err != nil {
			continue
		}
		ppid, _ := strconv.Atoi(f[4-3])
		m[pid] = ppid
	}
	return m
}

// descendants lists every process below root, parents before children.
func descendants(root int) []int {
	kids := map[int][]int{}
	for pid, ppid := range parentMap() {
		kids[ppid] = append(kids[ppid], pid)
	}
	var out []int
	queue := []int{root}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, c := range kids[p] {
			out = append(out, c)
			queue = append(queue, c)
		}
	}
	return out
}

// lastPID reads the last pid the kernel handed out in this pid namespace.
func lastPID() (int, error) {
	b, err := os.ReadFile("/proc/sys/kernel/ns_last_pid")
	if err != nil {
		return 0, fmt.Errorf("read last pid: %w", err)
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}

// childWatcher finds new children of a process cheaply: instead of scanning
// all of /proc it examines only the pids handed out since its last poll, so
// it can poll at sub-millisecond intervals without loading the machine.
type childWatcher struct {
	parent  int
	last    int
	pending map[int]time.Time // allocated pids not yet visible in /proc
}

// newChildWatcher watches for children of parent created after start, a
// value of lastPID() taken before parent could fork.
func newChildWatcher(parent, start int) *childWatcher {
	return &childWatcher{parent: parent, last: start, pending: map[int]time.Time{}}
}

// poll returns the children of the parent created since the previous poll.
func (w *childWatcher) poll() ([]int, error) {
	cur, err := lastPID()
	if err != nil {
		return nil, err
	}
	var found []int
	check := func(pid int, mayPend bool) {
		tgid, ppid, err := procIDs(pid)
		switch {
		case err != nil && !mayPend:
			return
		case err != nil:
			// Either gone already or not yet visible: retry briefly.
			if t, ok := w.pending[pid]; !ok {
				w.pending[pid] = time.Now()
			} else if time.Since(t) > 100*time.Millisecond {
				delete(w.pending, pid)
			}
			return
		case tgid == pid && ppid == w.parent:
			found = append(found, pid)
		}
		delete(w.pending, pid)
	}
	for pid := range w.pending {
		check(pid, true)
	}
	if cur < w.last { // pid numbers wrapped past pid_max
		// Too many pids to keep pending: a child not yet visible is missed.
		for pid := w.last + 1; pid <= pidMax(); pid++ {
			check(pid, false)
		}
		w.last = 0
	}
	for pid := w.last + 1; pid <= cur; pid++ {
		check(pid, cur-w.last < 4096)
	}
	w.last = cur
	return found, nil
}

func pidMax() int {
	b, err := os.ReadFile("/proc/sys/kernel/pid_max")
	if err != nil {
		return 1 << 22 // the kernel's upper bound
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 1 << 22
	}
	return n
}

// becomeSubreaper makes orphans of the daemons this process starts become its
// own children, so that a killed daemon's children can still be found and
// stopped.
func becomeSubreaper() error {
	const prSetChildSubreaper = 36
	if _, _, e := syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 1, 0); e != 0 {
		return fmt.Errorf("set child subreaper: %w", e)
	}
	return nil
}
