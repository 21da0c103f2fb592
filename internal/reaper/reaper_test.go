package reaper

import (
	"fmt"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Owned children and children nobody waits for exit at the same moments
// while Reap runs in a loop: every owned child's status reaches its owner
// (none is stolen), and every other child is reaped and reported once.
func TestReapLeavesOwnedChildren(t *testing.T) {
	const n = 60
	var wg sync.WaitGroup
	reported := map[int]int{} // pid -> exit status
	var repMu sync.Mutex
	stop := make(chan struct{})
	reaped := make(chan struct{})
	go func() {
		defer close(reaped)
		for {
			Reap(func(pid int, ws syscall.WaitStatus) {
				repMu.Lock()
				reported[pid] = ws.ExitStatus()
				repMu.Unlock()
			})
			select {
			case <-stop:
				return
			default:
			}
		}
	}()
	strays := make(chan int, n)
	errs := make(chan error, n)
	for i := range n {
		wg.Add(2)
		go func() { // owned: its status must be its own
			defer wg.Done()
			code := i%50 + 1
			var proc *os.Process
			pid, err := Start(func() (int, error) {
				var err error
				proc, err = os.StartProcess("/bin/sh", []string{"sh", "-c", fmt.Sprintf("exit %d", code)}, &os.ProcAttr{})
				if err != nil {
					return 0, err
				}
				return proc.Pid, nil
			})
			if err != nil {
				errs <- err
				return
			}
			st, err := proc.Wait()
			Done(pid)
			switch {
			case err != nil:
				errs <- fmt.Errorf("owned child %d: wait: %v (its status was taken)", pid, err)
			case st.ExitCode() != code:
				errs <- fmt.Errorf("owned child %d: exit status %d, want %d", pid, st.ExitCode(), code)
			}
		}()
		go func() { // not owned: for Reap
			defer wg.Done()
			pid, err := syscall.ForkExec("/bin/sh", []string{"sh", "-c", "exit 7"}, &syscall.ProcAttr{})
			if err != nil {
				errs <- err
				return
			}
			strays <- pid
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	close(strays)
	deadline := time.Now().Add(20 * time.Second)
	for pid := range strays {
		for {
			repMu.Lock()
			code, ok := reported[pid]
			repMu.Unlock()
			if ok {
				if code != 7 {
					t.Errorf("stray %d reported with exit status %d, want 7", pid, code)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("stray child %d was never reaped", pid)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	close(stop)
	<-reaped
	repMu.Lock()
	defer repMu.Unlock()
	if len(reported) != n {
		t.Errorf("reported %d children, want the %d strays only", len(reported), n)
	}
}
