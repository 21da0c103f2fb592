package process

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// execAfterSpawn (a helper mode) forks a child with a parent-death signal
// (SIGKILL), then replaces its own image by a shell that reports the
// child's state: exec'ed on the spawn thread, or on another thread.
func execAfterSpawn(onSpawnThread bool) {
	c, err := ForkExec().Spawn(&Command{Name: "sleeper", Argv: []string{"/bin/sleep", "30"}, Env: os.Environ(),
		Umask: -1, UID: -1, GID: -1, DeathSignal: syscall.SIGKILL})
	if err != nil {
		fmt.Println(err)
		os.Exit(2)
	}
	// Run by the shell: still this process, still the child's parent.
	// A killed child may already be reaped by the shell's own waits: "gone".
	script := fmt.Sprintf(`sleep 0.3; s=$(awk '/^State/ {print $2}' /proc/%d/status 2>/dev/null); echo "child state ${s:-gone}"; kill -9 %d 2>/dev/null; true`,
		c.PID(), c.PID())
	argv := []string{"/bin/sh", "-c", script}
	if onSpawnThread {
		err = ExecOnSpawnThread("/bin/sh", argv, os.Environ())
	} else {
		done := make(chan error)
		go func() {
			runtime.LockOSThread() // a thread of its own, not the spawn thread
			done <- syscall.Exec("/bin/sh", argv, os.Environ())
		}()
		err = <-done
	}
	fmt.Println("exec:", err)
	os.Exit(2)
}

// An upgrade's execve must run on the spawn thread: execve ends every other
// thread, and the kernel sends a child its parent-death signal when the
// thread that forked it ends. The control case shows the premise: exec'ed
// from another thread, the child is killed (a zombie, or reaped by the shell).
func TestExecOnSpawnThreadKeepsChildren(t *testing.T) {
	for _, tc := range []struct {
		mode string
		want []string
	}{
		{"exec-spawn-thread", []string{"child state S"}},
		{"exec-other-thread", []string{"child state Z", "child state gone"}},
	} {
		cmd := exec.Command(os.Args[0], tc.mode)
		cmd.Env = append(os.Environ(), helperEnv, noRaceExitDelay)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", tc.mode, err, out)
		}
		if got := strings.TrimSpace(string(out)); !slices.Contains(tc.want, got) {
			t.Errorf("%s: got %q, want one of %q", tc.mode, got, tc.want)
		}
	}
}
