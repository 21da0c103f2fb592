package process

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/drover/drover/internal/config"
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

// A freeze takes the child's output pipe from its poller between two reads:
// while frozen nothing more is read, and the pipe end in the Snapshot is
// inheritable across execve. A thaw gives the pipe back to a poller,
// close-on-exec again, and the numbered output loses and repeats no line.
func TestFreezeParksOutputAndThawResumes(t *testing.T) {
	cfg := &config.Process{
		Name: "n", Group: "n", Argv: []string{"/bin/sh", "-c", `i=0; while :; do i=$((i+1)); echo $i; done`},
		AutoRestart: config.RestartNever, ExitCodes: []int{0}, StopSignal: syscall.SIGKILL,
		StopWait: 10 * time.Second, Umask: -1, UID: -1, GID: -1,
	}
	var out syncBuffer
	r := NewRunner(cfg, Options{Stdout: &out})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() { done <- r.Run(ctx) }()
	endRun := sync.OnceFunc(func() { cancel(); <-done }) // Run returns once the output is written
	defer endRun()
	if err := r.Start(ctx, true); err != nil {
		t.Fatalf("Start = %v", err)
	}
	waitFor(t, "output", func() bool { return len(out.String()) > 0 })
	thaw := make(chan struct{})
	s, resumed, err := r.Freeze(thaw)
	if err != nil {
		t.Fatalf("Freeze = %v", err)
	}
	if s.PID == 0 || s.StdoutFD < 0 {
		t.Fatalf("Snapshot: pid %d, stdout fd %d; want a live child and its pipe", s.PID, s.StdoutFD)
	}
	closeOnExec := func() bool {
		flags, err := unix.FcntlInt(uintptr(s.StdoutFD), unix.F_GETFD, 0)
		return err == nil && flags&unix.FD_CLOEXEC != 0
	}
	if closeOnExec() {
		t.Error("the frozen stdout pipe is close-on-exec")
	}
	frozen := len(out.String())
	time.Sleep(300 * time.Millisecond) // the child fills the pipe meanwhile
	if n := len(out.String()); n != frozen {
		t.Errorf("read while frozen: %d bytes, then %d", frozen, n)
	}
	close(thaw)
	<-resumed
	if !closeOnExec() {
		t.Error("the thawed stdout pipe is inheritable")
	}
	waitFor(t, "output after the thaw", func() bool { return len(out.String()) > frozen+(64<<10) })
	if err := r.Stop(ctx, true); err != nil {
		t.Fatalf("Stop = %v", err)
	}
	endRun()
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	for i, l := range lines {
		if l != strconv.Itoa(i+1) {
			t.Fatalf("line %d of %d is %q", i+1, len(lines), l)
		}
	}
}
