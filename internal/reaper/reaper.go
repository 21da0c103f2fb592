// Package reaper lets the daemon, as PID 1 of a container or as a child
// subreaper, reap the orphans the kernel re-parents to it, without ever
// taking the exit status of a child whose owner waits for it.
//
// Every child the daemon starts and waits for itself (the supervised
// processes, a command check) is started through [Start], which marks its
// pid owned before anyone can reap, and released with [Done] once its owner's
// wait returned. [Reap] waits only for the other children, pid by pid, never
// with waitpid(-1): a supervised child's status stays its runner's, even
// when orphans and supervised children die at the same moment.
package reaper

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

var (
	// gate is read-held across a fork and the marking of its pid, and
	// write-held by Reap while it lists and waits: Reap never sees a child
	// that is started but not yet marked.
	gate sync.RWMutex
	mu   sync.Mutex
	// owned counts the owners of each pid: a pid reaped by its owner can
	// be reused by the next spawn before the first owner calls Done.
	owned = map[int]int{}
)

// Start runs start, which starts one child and returns its pid, and marks
// that child owned: Reap leaves it to its owner, who calls Done(pid) once
// its own wait for it has returned.
func Start(start func() (pid int, err error)) (int, error) {
	gate.RLock()
	defer gate.RUnlock()
	pid, err := start()
	if err != nil {
		return pid, err
	}
	mu.Lock()
	owned[pid]++
	mu.Unlock()
	return pid, nil
}

// Done releases a pid marked by Start, after its owner reaped it.
func Done(pid int) {
	mu.Lock()
	defer mu.Unlock()
	if owned[pid]--; owned[pid] <= 0 {
		delete(owned, pid)
	}
}

// Reap reaps every exited child of this process that no owner waits for,
// and calls report for each with its pid and wait status. It returns how
// many it reaped.
func Reap(report func(pid int, ws syscall.WaitStatus)) int {
	type reaped struct {
		pid int
		ws  syscall.WaitStatus
	}
	var done []reaped
	gate.Lock()
	for _, pid := range children() {
		mu.Lock()
		mine := owned[pid] > 0
		mu.Unlock()
		if mine {
			continue
		}
		var ws syscall.WaitStatus
		for {
			got, err := syscall.Wait4(pid, &ws, syscall.WNOHANG, nil)
			if err == syscall.EINTR {
				continue
			}
			if err == nil && got == pid {
				done = append(done, reaped{pid, ws})
			}
			break
		}
	}
	gate.Unlock()
	// Reported once spawns may go on: a slow log must not hold them up.
	for _, r := range done {
		report(r.pid, r.ws)
	}
	return len(done)
}

// children lists the children of every thread of this process: a child
// belongs to the thread that forked it, and an orphan to the thread the
// kernel picked. (Needs CONFIG_PROC_CHILDREN, on in the common distributions'
// kernels.)
func children() []int {
	tasks, _ := filepath.Glob("/proc/self/task/*/children")
	var pids []int
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			continue // the thread has exited
		}
		for _, f := range strings.Fields(string(b)) {
			if pid, err := strconv.Atoi(f); err == nil {
				pids = append(pids, pid)
			}
		}
	}
	return pids
}

// BecomeSubreaper makes this process the reaper of its descendants'
// orphans (PR_SET_CHILD_SUBREAPER), as PID 1 is in its namespace.
func BecomeSubreaper() error {
	return unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
}

// Adopt marks pid owned as Start does, for a child this image did not
// fork (one handed over by an upgrade): its owner calls Done once reaped.
func Adopt(pid int) {
	mu.Lock()
	owned[pid]++
	mu.Unlock()
}
