package supervisor

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/drover/drover/internal/config"
)

// TestRealProcesses runs real children in two groups, shuts down and checks
// that no process of theirs (nor a grandchild in their process group) is left.
func TestRealProcesses(t *testing.T) {
	dir := t.TempDir()
	shared := filepath.Join(dir, "echo.log")
	echo := program("echo", 1, 2, "/bin/sh", "-c", "echo started; sleep 1000 & wait")
	for _, p := range echo.Processes {
		p.StopAsGroup, p.KillAsGroup = true, true
		p.Stdout = config.ChildLog{Kind: config.LogFile, Path: shared}
	}
	plain := program("plain", 2, 1, "/bin/sleep", "1000")
	plain.Processes[0].StartSecs = 0
	s := New(configOf(dir, echo, plain), Options{})

	type result struct {
		restart bool
		err     error
	}
	done := make(chan result, 1)
	go func() {
		restart, err := s.Run(t.Context())
		done <- result{restart, err}
	}()
	<-s.Ready()

	var pids []int
	t.Cleanup(func() {
		for _, pid := range pids {
			_ = syscall.Kill(-pid, syscall.SIGKILL)
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for _, p := range s.AllProcesses() {
		for p.Info().PID == 0 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if p.Info().PID == 0 {
			t.Fatalf("%s never started: %+v", p.Namespec, p.Info())
		}
		pids = append(pids, p.Info().PID)
	}
	for time.Now().Before(deadline) {
		if b, _ := os.ReadFile(shared); strings.Count(string(b), "started\n") == 2 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if b, err := os.ReadFile(shared); strings.Count(string(b), "started\n") != 2 {
		t.Errorf("shared log %s = %q, %v; want two lines \"started\"", shared, b, err)
	}

	s.Shutdown()
	select {
	case r := <-done:
		if r.restart || r.err != nil {
			t.Errorf("Run() = %v, %v; want false, nil", r.restart, r.err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return after Shutdown")
	}
	for _, pid := range pids {
		// The runners have reaped their children by the time Run returns.
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("child %d still exists after Run (kill: %v)", pid, err)
		}
		// Grandchildren (killed with the group) are reaped by init, a bit later.
		deadline := time.Now().Add(10 * time.Second)
		for syscall.Kill(-pid, 0) == nil && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if err := syscall.Kill(-pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("process group %d still exists after Run (kill: %v)", pid, err)
		}
	}
}
