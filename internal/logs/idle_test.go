package logs

import (
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// TestIdleCloserSharedTimer: logs sharing one closer are each closed
// idleClose after their own last output, not at another's deadline; one
// written again is opened again and kept open; Close takes a log out.
func TestIdleCloserSharedTimer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		idle := NewIdleCloser()
		paths := make([]string, 3)
		ls := make([]*ChildLog, 3)
		for i := range ls {
			paths[i] = filepath.Join(dir, fmt.Sprintf("%d.log", i))
			ls[i] = openChild(t, ChildConfig{Path: paths[i], Idle: idle})
		}
		open := func() (n []int) {
			for _, p := range paths {
				n = append(n, openFDs(t, p))
			}
			return n
		}
		writeString(t, ls[0], "a")
		time.Sleep(idleClose / 4)
		writeString(t, ls[1], "b")
		time.Sleep(idleClose / 4)
		writeString(t, ls[2], "c")
		if got := fmt.Sprint(open()); got != "[1 1 1]" {
			t.Fatalf("after writing each: descriptors %s", got)
		}
		time.Sleep(idleClose/2 + time.Millisecond) // log 0 is due
		synctest.Wait()
		if got := fmt.Sprint(open()); got != "[0 1 1]" {
			t.Errorf("idleClose after log 0's write: descriptors %s, want [0 1 1]", got)
		}
		writeString(t, ls[0], "a") // opened again
		time.Sleep(idleClose / 4)  // log 1 is due
		synctest.Wait()
		if got := fmt.Sprint(open()); got != "[1 0 1]" {
			t.Errorf("idleClose after log 1's write: descriptors %s, want [1 0 1]", got)
		}
		if err := ls[2].Close(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(idleClose)
		synctest.Wait()
		if got := fmt.Sprint(open()); got != "[0 0 0]" {
			t.Errorf("all idle: descriptors %s", got)
		}
		idle.mu.Lock()
		left := len(idle.open)
		idle.mu.Unlock()
		if left != 0 {
			t.Errorf("%d logs still watched with every file closed", left)
		}
		writeString(t, ls[1], "b") // the stopped timer starts again
		time.Sleep(idleClose)
		synctest.Wait()
		if got := fmt.Sprint(open()); got != "[0 0 0]" {
			t.Errorf("after a write once all were idle: descriptors %s", got)
		}
		if got := readString(t, paths[0]) + readString(t, paths[1]) + readString(t, paths[2]); got != "aabbc" {
			t.Errorf("contents %q", got)
		}
	})
}

// TestIdleCloserConcurrent runs writers of many logs sharing a closer while
// it sweeps (with -race: the closer's and the logs' locks); every byte
// lands and every file ends closed.
func TestIdleCloserConcurrent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		idle := NewIdleCloser()
		const logsN, writes = 20, 30
		var wg sync.WaitGroup
		paths := make([]string, logsN)
		for i := range logsN {
			paths[i] = filepath.Join(dir, fmt.Sprintf("%d.log", i))
			l := openChild(t, ChildConfig{Path: paths[i], Idle: idle})
			wg.Go(func() {
				for range writes {
					writeString(t, l, "x")
					time.Sleep(time.Duration(i+1) * idleClose / 10)
				}
			})
		}
		wg.Wait()
		time.Sleep(idleClose)
		synctest.Wait()
		for _, p := range paths {
			if n := openFDs(t, p); n != 0 {
				t.Errorf("%s: %d descriptors once idle", p, n)
			}
			if got := len(readString(t, p)); got != writes {
				t.Errorf("%s: %d bytes, want %d", p, got, writes)
			}
		}
	})
}
