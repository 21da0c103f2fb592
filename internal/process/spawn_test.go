package process

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/guard"
	"github.com/drover/drover/internal/sysnames"
)

// syncBuffer is a Writer safe for the pump goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func testExe(t *testing.T) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return exe
}

// helperCommand is a Command running helper cmd, output into fresh buffers.
func helperCommand(t *testing.T, args ...string) (*Command, *syncBuffer, *syncBuffer) {
	var out, errb syncBuffer
	return &Command{
		Name: "h", Group: "h",
		Argv:  append([]string{testExe(t)}, args...),
		Env:   []string{helperEnv, noRaceExitDelay, "PATH=/usr/bin:/bin"},
		Umask: -1, UID: -1, GID: -1,
		Stdout: &out, Stderr: &errb,
	}, &out, &errb
}

// testChild is a spawned helper whose exit is collected in the background.
type testChild struct {
	*child
	done chan struct{} // closed once reaped
	es   ExitStatus
}

// spawnHelper spawns c and makes sure it is dead and reaped at the end of the test.
func spawnHelper(t *testing.T, c *Command) *testChild {
	t.Helper()
	ch, err := forkExec{}.Spawn(c)
	if err != nil {
		t.Fatalf("Spawn = %v", err)
	}
	tc := &testChild{child: ch.(*child), done: make(chan struct{})}
	go func() { tc.es = tc.Wait(); close(tc.done) }()
	t.Cleanup(func() {
		syscall.Kill(-tc.PID(), syscall.SIGKILL)
		<-tc.done
	})
	return tc
}

// exit waits (bounded) for the child's exit, not for its output.
func (tc *testChild) exit(t *testing.T) ExitStatus {
	t.Helper()
	select {
	case <-tc.done:
		return tc.es
	case <-time.After(10 * time.Second):
		t.Fatal("child did not exit")
	}
	return ExitStatus{}
}

// finish waits for the child's exit and for its output pumps.
func (tc *testChild) finish(t *testing.T) ExitStatus {
	t.Helper()
	es := tc.exit(t)
	<-tc.Drained()
	return es
}

func TestSpawnExitStatus(t *testing.T) {
	tests := []struct {
		args []string
		sig  syscall.Signal // sent after "ready"
		want ExitStatus
		str  string
	}{
		{[]string{"exit", "0"}, 0, ExitStatus{Code: 0}, "exit status 0"},
		{[]string{"exit", "3"}, 0, ExitStatus{Code: 3}, "exit status 3"},
		{[]string{"sleep"}, syscall.SIGTERM, ExitStatus{Code: -1, Signal: syscall.SIGTERM}, "terminated by SIGTERM"},
		{[]string{"sleep"}, syscall.SIGHUP, ExitStatus{Code: -1, Signal: syscall.SIGHUP}, "terminated by SIGHUP"},
		{[]string{"ignoreterm"}, syscall.SIGKILL, ExitStatus{Code: -1, Signal: syscall.SIGKILL}, "terminated by SIGKILL"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " ")+" "+sysnames.SignalName(tt.sig), func(t *testing.T) {
			if tt.sig != 0 && ignoredHere(t, tt.sig) {
				// An ignored signal stays ignored across fork and exec; the
				// daemon handles SIGHUP itself, so its children get it back.
				t.Skipf("%v is ignored by this test process (started under nohup?), so by its children too", tt.sig)
			}
			c, out, _ := helperCommand(t, tt.args...)
			ch := spawnHelper(t, c)
			if tt.sig != 0 {
				waitFor(t, "ready", func() bool { return out.String() == "ready\n" })
				if err := ch.Signal(tt.sig, false); err != nil {
					t.Fatalf("Signal = %v", err)
				}
			}
			es := ch.exit(t)
			if es != tt.want || es.String() != tt.str {
				t.Errorf("exit = %+v %q, want %+v %q", es, es, tt.want, tt.str)
			}
			if err := ch.Signal(syscall.SIGTERM, false); err != syscall.ESRCH {
				t.Errorf("Signal after exit = %v, want ESRCH", err)
			}
		})
	}
}

// ignoredHere reports whether this process ignores sig (SigIgn in
// /proc/self/status).
func ignoredHere(t *testing.T, sig syscall.Signal) bool {
	t.Helper()
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(status), "\n") {
		if hex, ok := strings.CutPrefix(l, "SigIgn:"); ok {
			mask, err := strconv.ParseUint(strings.TrimSpace(hex), 16, 64)
			if err != nil {
				t.Fatal(err)
			}
			return mask&(1<<(uint(sig)-1)) != 0
		}
	}
	t.Fatal("no SigIgn line in /proc/self/status")
	return false
}

func gpidOf(t *testing.T, out *syncBuffer) int {
	t.Helper()
	var gpid int
	waitFor(t, "grandchild pid", func() bool {
		for _, l := range strings.Split(out.String(), "\n") {
			if n, _ := fmt.Sscanf(l, "gpid %d", &gpid); n == 1 {
				return true
			}
		}
		return false
	})
	t.Cleanup(func() { syscall.Kill(gpid, syscall.SIGKILL) })
	return gpid
}

// A grandchild holding stdout open must not delay the exit of its parent.
func TestSpawnExitNotDelayedByGrandchild(t *testing.T) {
	c, out, _ := helperCommand(t, "grandchild")
	ch := spawnHelper(t, c)
	if es := ch.exit(t); es != (ExitStatus{}) {
		t.Fatalf("exit = %v", es)
	}
	gpid := gpidOf(t, out)
	if !alive(gpid) {
		t.Fatalf("grandchild %d is not alive: the test shows nothing", gpid)
	}
	select {
	case <-ch.Drained():
		t.Fatal("stdout reached EOF while the grandchild holds it")
	default:
	}
	syscall.Kill(gpid, syscall.SIGKILL)
	<-ch.Drained() // EOF once the last writer is gone
}

func TestSpawnGroupSignal(t *testing.T) {
	for _, group := range []bool{false, true} {
		t.Run(fmt.Sprint("group=", group), func(t *testing.T) {
			c, out, _ := helperCommand(t, "groupchild")
			ch := spawnHelper(t, c)
			gpid := gpidOf(t, out)
			waitFor(t, "grandchild ready", func() bool { return strings.Contains(out.String(), "ready") })
			if pgid, _ := syscall.Getpgid(ch.PID()); pgid != ch.PID() {
				t.Errorf("pgid = %d, want the child's pid %d", pgid, ch.PID())
			}
			if err := ch.Signal(syscall.SIGTERM, group); err != nil {
				t.Fatal(err)
			}
			ch.exit(t)
			if group {
				waitFor(t, "grandchild death", func() bool { return !alive(gpid) })
			} else if !alive(gpid) {
				t.Errorf("grandchild died, want it orphaned (signal to the pid only)")
			}
		})
	}
}

func TestSpawnEnvironment(t *testing.T) {
	cfg := &config.Process{
		Name: "web_1", Group: "web", Argv: []string{testExe(t), "env"}, Umask: -1, UID: -1, GID: -1,
		ServerURL:   "AUTO",
		Environment: []config.EnvVar{{Key: "FOO", Value: "bar"}, {Key: "HOME", Value: "/nowhere"}},
	}
	var out syncBuffer
	opts := &Options{
		ServerURL: "unix:///tmp/drv.sock", Stdout: &out,
		BaseEnv: []string{helperEnv, noRaceExitDelay, "HOME=/root", "PATH=/bin", "SUPERVISOR_ENABLED=0"},
	}
	ch := spawnHelper(t, newCommand(cfg, opts))
	ch.finish(t)
	got := strings.Split(strings.TrimSpace(out.String()), "\n")
	want := []string{helperEnv, noRaceExitDelay, "HOME=/nowhere", "PATH=/bin", "SUPERVISOR_ENABLED=1",
		"SUPERVISOR_SERVER_URL=unix:///tmp/drv.sock", "SUPERVISOR_PROCESS_NAME=web_1",
		"SUPERVISOR_GROUP_NAME=web", "FOO=bar"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("child environment:\n%q\nwant\n%q", got, want)
	}
}

func TestSpawnStdinIsAPipe(t *testing.T) {
	c, out, _ := helperCommand(t, "stdin")
	ch := spawnHelper(t, c)
	if _, err := ch.Stdin().Write([]byte("hello\n")); err != nil {
		t.Fatal(err)
	}
	ch.finish(t)
	if got := out.String(); got != "got hello\n" {
		t.Errorf("output = %q, want %q", got, "got hello\n")
	}
}

func TestSpawnRedirectStderr(t *testing.T) {
	for _, redirect := range []bool{false, true} {
		t.Run(fmt.Sprint(redirect), func(t *testing.T) {
			c, out, errb := helperCommand(t, "outerr")
			c.RedirectStderr = redirect
			spawnHelper(t, c).finish(t)
			wantOut, wantErr := "out\n", "err\n"
			if redirect {
				wantOut, wantErr = "out\nerr\n", ""
			}
			if out.String() != wantOut || errb.String() != wantErr {
				t.Errorf("stdout %q stderr %q, want %q %q", out, errb, wantOut, wantErr)
			}
		})
	}
}

// skipBurstUnderRace skips a 4 MiB burst test in the short race run (make
// test): the race-instrumented child takes over 10 s; the plain run has it.
func skipBurstUnderRace(t *testing.T) {
	if raceBuild && testing.Short() {
		t.Skip("a 4 MiB burst from a race-instrumented child is too slow for the short race run")
	}
}

func TestSpawnBurstNotLost(t *testing.T) {
	skipBurstUnderRace(t)
	const n = 4<<20 + 123
	c, out, _ := helperCommand(t, "burst", fmt.Sprint(n))
	spawnHelper(t, c).finish(t)
	if got := out.String(); got != string(burst(n)) {
		t.Errorf("got %d bytes, want %d identical bytes", len(got), n)
	}
}

// failOnce is a Writer whose first Write fails, as a log on a full disk does.
type failOnce struct {
	syncBuffer
	failed bool
}

func (w *failOnce) Write(p []byte) (int, error) {
	w.mu.Lock()
	first := !w.failed
	w.failed = true
	w.mu.Unlock()
	if first {
		return 0, syscall.ENOSPC
	}
	return w.syncBuffer.Write(p)
}

func TestSpawnOutputAfterFailedWrite(t *testing.T) {
	skipBurstUnderRace(t)
	const n = 4 << 20
	c, _, _ := helperCommand(t, "burst", fmt.Sprint(n))
	var out failOnce
	c.Stdout = &out
	spawnHelper(t, c).finish(t)
	got := out.String()
	if got == "" || !strings.HasSuffix(string(burst(n)), got) {
		t.Errorf("after a failed write got %d bytes, want the rest of the %d-byte burst", len(got), n)
	}
}

func TestSpawnDeathSignal(t *testing.T) {
	for _, dir := range []string{"", "/"} { // "/": through the trampoline
		t.Run(fmt.Sprintf("dir=%q", dir), func(t *testing.T) {
			c, out, _ := helperCommand(t, "spawnorphan", dir)
			spawnHelper(t, c).exit(t) // not finish: the orphan may hold stdout
			gpid := gpidOf(t, out)
			// The grandchild's parent exited: the kernel sends it SIGTERM and
			// init reaps it.
			waitFor(t, "the orphan to get its death signal", func() bool { return !alive(gpid) })
		})
	}
}

func TestSpawnDirectoryAndUmask(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name     string
		args     []string
		dir      string
		umask    int
		wantOut  string
		wantErr  string
		wantExit int
	}{
		{"directory", []string{"pwd"}, dir, -1, dir + "\n", "", 0},
		{"umask", []string{"umask"}, "", 0o027, "27\n", "", 0},
		{"both", []string{"umask"}, dir, 0o7, "7\n", "", 0},
		{"missing directory", []string{"pwd"}, "/nonexistent", -1, "",
			"supervisor: couldn't chdir to /nonexistent: ENOENT\nsupervisor: child process was not spawned\n", 127},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, out, errb := helperCommand(t, tt.args...)
			c.Dir, c.Umask = tt.dir, tt.umask
			es := spawnHelper(t, c).finish(t)
			if es.Code != tt.wantExit || out.String() != tt.wantOut || errb.String() != tt.wantErr {
				t.Errorf("exit %v stdout %q stderr %q, want %d %q %q", es, out, errb, tt.wantExit, tt.wantOut, tt.wantErr)
			}
		})
	}
}

func TestSpawnUser(t *testing.T) {
	if os.Geteuid() != 0 {
		c, _, _ := helperCommand(t, "ids")
		c.UID, c.GID = 65534, 65534
		_, err := forkExec{}.Spawn(c)
		want := &SpawnError{SpawnFailed, "couldn't setuid to 65534: Can't drop privilege as nonroot user"}
		if !reflect.DeepEqual(err, want) {
			t.Errorf("Spawn as non-root = %v, want %v", err, want)
		}
		return
	}
	// The program must be reachable by nobody: copy it to a world-readable directory.
	dir, err := os.MkdirTemp("", "drv")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	exe := filepath.Join(dir, "helper")
	copyFile(t, testExe(t), exe)
	for _, viaTrampoline := range []bool{false, true} {
		t.Run(fmt.Sprint("trampoline=", viaTrampoline), func(t *testing.T) {
			c, out, errb := helperCommand(t, "ids")
			c.UID, c.GID, c.Groups = 65534, 65534, []int{65534, 4242}
			c.Argv[0] = exe
			if viaTrampoline {
				c.Dir = dir
			}
			es := spawnHelper(t, c).finish(t)
			if want := "65534 65534 [4242 65534]\n"; es.Code != 0 || out.String() != want {
				t.Errorf("exit %v ids %q (stderr %q), want %q", es, out, errb, want)
			}
		})
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	src, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestResolve(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "plain")
	os.WriteFile(plain, nil, 0o644)
	tool := filepath.Join(dir, "tool")
	os.WriteFile(tool, nil, 0o755)
	tests := []struct {
		argv    []string
		argvErr string
		path    string
		want    string
		err     *SpawnError
	}{
		{nil, "can't parse command 'a \"b': No closing quotation", "", "",
			&SpawnError{SpawnNotExecutable, "can't parse command 'a \"b': No closing quotation"}},
		{[]string{}, "", "", "", &SpawnError{SpawnNotExecutable, "command is empty"}},
		{[]string{"/no/such"}, "", "", "", &SpawnError{SpawnNoFile, "can't find command '/no/such'"}},
		{[]string{"nosuchcmd"}, "", dir, "", &SpawnError{SpawnNoFile, "can't find command 'nosuchcmd'"}},
		{[]string{dir}, "", "", "", &SpawnError{SpawnNotExecutable, "command at '" + dir + "' is a directory"}},
		{[]string{plain}, "", "", "", &SpawnError{SpawnNotExecutable, "command at '" + plain + "' is not executable"}},
		{[]string{"plain"}, "", dir, "", &SpawnError{SpawnNotExecutable, "command at '" + plain + "' is not executable"}},
		{[]string{"tool", "x"}, "", "/nonexistent:" + dir, tool, nil},
		{[]string{tool}, "", "", tool, nil},
	}
	for _, tt := range tests {
		c := &Command{Argv: tt.argv, ArgvErr: tt.argvErr}
		if tt.path != "" {
			c.Env = []string{"PATH=" + tt.path}
		}
		got, err := resolve(c)
		var wantErr error
		if tt.err != nil {
			wantErr = tt.err
		}
		if got != tt.want || !reflect.DeepEqual(err, wantErr) {
			t.Errorf("resolve(%q, PATH=%q) = %q, %v; want %q, %v", tt.argv, tt.path, got, err, tt.want, wantErr)
		}
	}
}

// The Runner with real children: start, stop, and SIGKILL of a child ignoring SIGTERM.
func TestRunnerRealProcess(t *testing.T) {
	for _, stubborn := range []bool{false, true} {
		t.Run(fmt.Sprint("stubborn=", stubborn), func(t *testing.T) {
			cmd := "sleep"
			if stubborn {
				cmd = "ignoreterm"
			}
			cfg := &config.Process{
				Name: "r", Group: "r", Argv: []string{testExe(t), cmd},
				ExitCodes: []int{0}, StopSignal: syscall.SIGTERM, StopWait: 200 * time.Millisecond,
				StartRetries: 3, Umask: -1, UID: -1, GID: -1,
			}
			var out syncBuffer
			log := &logRecorder{}
			r := NewRunner(cfg, Options{Stdout: &out, Log: log, BaseEnv: []string{helperEnv, noRaceExitDelay}})
			ctx, cancel := context.WithCancel(t.Context())
			done := make(chan error)
			go func() { done <- r.Run(ctx) }()
			defer func() { cancel(); <-done }()
			if err := r.Start(ctx, true); err != nil {
				t.Fatalf("Start = %v", err)
			}
			pid := r.Info().PID
			waitFor(t, "ready", func() bool { return out.String() == "ready\n" })
			if err := r.Stop(ctx, true); err != nil {
				t.Fatalf("Stop = %v", err)
			}
			info := r.Info()
			want := "stopped: r (terminated by SIGTERM)"
			if stubborn {
				want = "stopped: r (terminated by SIGKILL)"
			}
			if info.State != Stopped || info.ExitStatus != -1 || log.count(want) != 1 {
				t.Errorf("after stop: %+v, log %q; want STOPPED, -1, %q", info, log.lines, want)
			}
			if alive(pid) {
				t.Errorf("child %d still alive", pid)
			}
		})
	}
}

// slowWriter takes its time over every write, as a log on a busy disk does.
type slowWriter struct {
	mu sync.Mutex
	n  int
}

func (w *slowWriter) Write(p []byte) (int, error) {
	time.Sleep(50 * time.Millisecond)
	w.mu.Lock()
	w.n += len(p)
	w.mu.Unlock()
	return len(p), nil
}

// Run returns only once the last child's output is written, so the owner can
// close the log files without losing the output of a child that says a lot
// on its way out.
func TestRunnerRunWaitsForLastOutput(t *testing.T) {
	const size = 2 << 20
	cfg := &config.Process{
		Name: "b", Group: "b", Argv: []string{testExe(t), "burstonterm", fmt.Sprint(size)},
		ExitCodes: []int{0}, StopSignal: syscall.SIGTERM, StopWait: 10 * time.Second,
		Umask: -1, UID: -1, GID: -1,
	}
	out := &slowWriter{}
	r := NewRunner(cfg, Options{Stdout: out, BaseEnv: []string{helperEnv, noRaceExitDelay}})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() { done <- r.Run(ctx) }()
	if err := r.Start(ctx, true); err != nil {
		t.Fatalf("Start = %v", err)
	}
	waitFor(t, "ready", func() bool { out.mu.Lock(); defer out.mu.Unlock(); return out.n == len("ready\n") })
	cancel()
	<-done
	out.mu.Lock()
	defer out.mu.Unlock()
	if want := len("ready\n") + size; out.n != want {
		t.Errorf("written when Run returned = %d bytes, want %d", out.n, want)
	}
}

func TestRunnerWriteStdin(t *testing.T) {
	cfg := &config.Process{
		Name: "s", Group: "s", Argv: []string{testExe(t), "stdin"}, AutoRestart: config.RestartNever,
		ExitCodes: []int{0}, StopSignal: syscall.SIGTERM, StopWait: time.Second, Umask: -1, UID: -1, GID: -1,
	}
	var out syncBuffer
	r := NewRunner(cfg, Options{Stdout: &out, BaseEnv: []string{helperEnv, noRaceExitDelay}})
	if err := r.WriteStdin([]byte("x")); err != ErrNotRunning {
		t.Errorf("WriteStdin before start = %v, want ErrNotRunning", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() { done <- r.Run(ctx) }()
	defer func() { cancel(); <-done }()
	if err := r.Start(ctx, true); err != nil {
		t.Fatalf("Start = %v", err)
	}
	if err := r.WriteStdin([]byte("hi\n")); err != nil {
		t.Fatalf("WriteStdin = %v", err)
	}
	waitFor(t, "EXITED", func() bool { return r.Info().State == Exited })
	waitFor(t, "echo", func() bool { return out.String() == "got hi\n" })
	if err := r.WriteStdin([]byte("x")); err != ErrNotRunning {
		t.Errorf("WriteStdin after exit = %v, want ErrNotRunning", err)
	}
}

func TestSpawnStdinNeverBlocks(t *testing.T) {
	c, out, _ := helperCommand(t, "sleep") // never reads stdin
	ch := spawnHelper(t, c)
	waitFor(t, "ready", func() bool { return out.String() == "ready\n" })
	wrote := make(chan error, 1)
	go func() { _, err := ch.Stdin().Write(make([]byte, 4<<20)); wrote <- err }()
	select {
	case err := <-wrote:
		if err != nil {
			t.Errorf("Write = %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Write blocked on a full pipe")
	}
	ch.Signal(syscall.SIGKILL, false)
	ch.exit(t)
	// The pending data meets EPIPE, or the pipe is closed at reaping.
	if _, err := ch.Stdin().Write([]byte("x")); !errors.Is(err, os.ErrClosed) && !errors.Is(err, syscall.EPIPE) {
		t.Errorf("Write after exit = %v, want os.ErrClosed or EPIPE", err)
	}
}

func TestSpawnStdinClosedByChild(t *testing.T) {
	c, out, _ := helperCommand(t, "closestdin")
	ch := spawnHelper(t, c)
	waitFor(t, "ready", func() bool { return out.String() == "ready\n" })
	waitFor(t, "EPIPE", func() bool {
		_, err := ch.Stdin().Write([]byte("x"))
		return errors.Is(err, syscall.EPIPE)
	})
}

func TestNewCommandDeathSignal(t *testing.T) {
	tests := []struct {
		name   string
		stop   syscall.Signal
		worker *config.Worker
		want   syscall.Signal
	}{
		{"default: the stopsignal", syscall.SIGTERM, nil, syscall.SIGTERM},
		{"stopsignal INT", syscall.SIGINT, &config.Worker{}, syscall.SIGINT},
		{"stop_on_daemon_death=false", syscall.SIGTERM, &config.Worker{KeepOnDaemonDeath: true}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := &config.Process{Name: "w", StopSignal: tt.stop, Worker: tt.worker, Umask: -1, UID: -1, GID: -1}
			if got := newCommand(cfg, &Options{}).DeathSignal; got != tt.want {
				t.Errorf("DeathSignal = %v, want %v", got, tt.want)
			}
		})
	}
}

// Through the real spawner: a child that writes and exits at once is
// drained with every byte, however its output, its closing of the pipe and
// its exit reach the poller (see drain).
func TestSpawnDrainsLastWordsAtExit(t *testing.T) {
	for i := range 300 {
		var out, errb syncBuffer
		tc := spawnHelper(t, &Command{
			Name: "w", Group: "w",
			Argv:  []string{"/bin/sh", "-c", "echo first; echo last; echo oops >&2"},
			Env:   []string{"PATH=/usr/bin:/bin"},
			Umask: -1, UID: -1, GID: -1,
			Stdout: &out, Stderr: &errb,
		})
		select {
		case <-tc.Drained():
		case <-time.After(10 * time.Second):
			t.Fatalf("round %d: output not drained 10 s after the start (stdout %q, stderr %q)", i, out.String(), errb.String())
		}
		if out.String() != "first\nlast\n" || errb.String() != "oops\n" {
			t.Fatalf("round %d: stdout %q, stderr %q", i, out.String(), errb.String())
		}
	}
}

// TestSpawnFastExitCountsEveryPump spawns many children that exit at once,
// stderr not redirected, from several goroutines. Spawn used to count the
// stderr pump only after starting the stdout pump: a child gone by then let
// the stdout pump take the count to zero, and the stderr pump took it to
// zero again, closing drained twice (a panic that ended the daemon).
func TestSpawnFastExitCountsEveryPump(t *testing.T) {
	spawns, spawners := 4000, 64
	if testing.Short() {
		spawns = 500
	}
	// More threads than CPUs: the kernel preempts a spawner between
	// starting one pump and the next, as a loaded machine did.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(spawners))
	var wg sync.WaitGroup
	errs := make(chan error, spawners)
	for range spawners {
		wg.Go(func() {
			for range spawns / spawners {
				c, err := forkExec{}.Spawn(&Command{
					Name: "t", Group: "t", Argv: []string{"/bin/true"},
					Env: []string{"PATH=/usr/bin:/bin"}, Umask: -1, UID: -1, GID: -1,
				})
				if err != nil {
					errs <- err
					return
				}
				if es := c.Wait(); es.Code != 0 {
					errs <- fmt.Errorf("/bin/true: %v", es)
					return
				}
				select {
				case <-c.(*child).Drained():
				case <-time.After(10 * time.Second):
					errs <- errors.New("output not drained 10 s after the exit")
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// pidfds counts this process's open pidfds.
func pidfds(t *testing.T) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if target, _ := os.Readlink(filepath.Join("/proc/self/fd", e.Name())); target == "anon_inode:[pidfd]" {
			n++
		}
	}
	return n
}

// TestSpawnHoldsOnePidfd: a running child whose exit a poller watches
// (NotifyExit, the daemon's way) costs the daemon one pidfd (os.StartProcess
// kept its own and the waiter opened another: two), out of the runtime's
// poller (which kept a record of about 300 bytes for each), and none once
// reaped. Signals go through it. Wait without a poller (spawnHelper's, the
// other tests) parks on a duplicate while it waits.
func TestSpawnHoldsOnePidfd(t *testing.T) {
	before := pidfds(t)
	c, _, _ := helperCommand(t, "sleep")
	ch, err := forkExec{}.Spawn(c)
	if err != nil {
		t.Fatalf("Spawn = %v", err)
	}
	t.Cleanup(func() { syscall.Kill(-ch.PID(), syscall.SIGKILL) })
	exited := make(chan ExitStatus, 1)
	if !ch.(*child).NotifyExit("sleeper", func(es ExitStatus) { exited <- es }) {
		t.Fatal("no poller took the pidfd")
	}
	if n := pidfds(t) - before; n != 1 {
		t.Errorf("%d pidfds for one running child, want 1", n)
	}
	if fl, err := unix.FcntlInt(uintptr(ch.(*child).pidfd), unix.F_GETFL, 0); err != nil || fl&unix.O_NONBLOCK != 0 {
		t.Errorf("pidfd flags %#o (%v), want a blocking descriptor, which the runtime's poller never takes", fl, err)
	}
	if err := ch.Signal(syscall.SIGTERM, false); err != nil {
		t.Fatalf("Signal = %v", err)
	}
	select {
	case es := <-exited:
		if es.Signal != syscall.SIGTERM {
			t.Errorf("exit %v, want terminated by SIGTERM", es)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("exit not reported")
	}
	if n := pidfds(t) - before; n != 0 {
		t.Errorf("%d pidfds left after the child was reaped", n)
	}
	if err := ch.Signal(syscall.SIGTERM, false); err != syscall.ESRCH {
		t.Errorf("Signal after the reap = %v, want ESRCH", err)
	}
}

// panicWriter is a log writer with a bug.
type panicWriter struct{}

func (panicWriter) Write([]byte) (int, error) { panic("bad writer") }

// TestSpawnPumpPanicEndsOnlyThePump: a panic while copying a child's output
// is recovered and reported; the pipe is closed, so the child dies of
// SIGPIPE at its next write (and its runner restarts it), and its output
// counts as drained.
func TestSpawnPumpPanicEndsOnlyThePump(t *testing.T) {
	reported := make(chan *guard.Panic, 1)
	guard.SetReporter(func(p *guard.Panic) { reported <- p })
	t.Cleanup(func() { guard.SetReporter(func(*guard.Panic) {}) })
	c, _, _ := helperCommand(t, "burst", fmt.Sprint(1<<20)) // more than a pipe holds
	c.Stdout = panicWriter{}
	es := spawnHelper(t, c).finish(t)
	if es.Signal != syscall.SIGPIPE {
		t.Errorf("child ended with %v, want SIGPIPE", es)
	}
	select {
	case p := <-reported:
		if p.Error() != "panic in output pump of h: bad writer" {
			t.Errorf("reported %v", p)
		}
	default:
		t.Error("the panic was not reported")
	}
}

// gatedWriter is a log writer that stops, once it has been given more than
// gateAfter bytes, until open is closed, as a log on a stalled disk does.
// It notes any Write that overlaps another.
type gatedWriter struct {
	syncBuffer
	gateAfter int
	stopped   chan struct{} // closed when a Write waits for open
	open      chan struct{}
	writing   atomic.Int32
	overlaps  atomic.Int32
	got       int // owned by Write, which is never concurrent (overlaps)
}

func (w *gatedWriter) Write(p []byte) (int, error) {
	if w.writing.Add(1) > 1 {
		w.overlaps.Add(1)
	}
	defer w.writing.Add(-1)
	if w.got += len(p); w.got > w.gateAfter && w.stopped != nil {
		close(w.stopped)
		w.stopped = nil
		<-w.open
	}
	return w.syncBuffer.Write(p)
}

// TestSpawnFloodWaitsForItsSink: a flooded pipe's output reaches its sink
// one write at a time and in order, and a stalled sink stops the reading:
// the child then blocks on its full pipe instead of the daemon holding its
// output (memory stays bounded whatever the child writes), and nothing is
// lost once the sink goes on.
func TestSpawnFloodWaitsForItsSink(t *testing.T) {
	const lines = 1_200_000 // 8.3 MB
	c, _, _ := helperCommand(t)
	c.Argv = []string{"seq", fmt.Sprint(lines)} // fast, also in the race run
	out := &gatedWriter{gateAfter: 2 << 20, stopped: make(chan struct{}), open: make(chan struct{})}
	stopped := out.stopped
	c.Stdout = out
	tc := spawnHelper(t, c)
	select {
	case <-stopped:
	case <-time.After(10 * time.Second):
		t.Fatal("the sink was never given 2 MiB")
	}
	// Held: the chunk being written and a grown pipe (1 MiB). The child
	// has much more to write: it must be blocked.
	time.Sleep(300 * time.Millisecond)
	select {
	case <-tc.done:
		t.Error("the child wrote its whole output while the sink was stalled")
	default:
	}
	close(out.open)
	tc.finish(t)
	var want strings.Builder
	for i := 1; i <= lines; i++ {
		want.WriteString(strconv.Itoa(i))
		want.WriteByte('\n')
	}
	if got := out.String(); got != want.String() {
		t.Errorf("got %d bytes, want %d identical bytes", len(got), want.Len())
	}
	if k := out.overlaps.Load(); k > 0 {
		t.Errorf("%d writes overlapped another", k)
	}
}

// TestSpawnChildStdioBlocks: the pipes are made non-blocking for the
// daemon's poller, but only the daemon's ends: a child whose stdio is
// non-blocking fails writes with EAGAIN once a pipe is full. The daemon's
// end of stdin is out of the runtime's poller until the first write (its
// record there costs memory for every child, most never written to), and
// in it from then on, or a write would block a thread.
func TestSpawnChildStdioBlocks(t *testing.T) {
	c, out, _ := helperCommand(t)
	// The child waits for a line, so its pipes are still open when looked at.
	c.Argv = []string{"/bin/sh", "-c", "grep -h ^flags: /proc/self/fdinfo/0 /proc/self/fdinfo/1 /proc/self/fdinfo/2; read x; read y"}
	tc := spawnHelper(t, c)
	// A bare descriptor, blocking, before the first write. (The output
	// ends go on to the output pollers: pump_linux.go.)
	tc.stdin.mu.Lock()
	fd, polled := int(tc.stdin.fd), tc.stdin.polled
	tc.stdin.mu.Unlock()
	if polled != nil || fd < 0 {
		t.Errorf("daemon's end of stdin before any write: fd %d, polled %v, want a bare descriptor", fd, polled)
	} else if fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0); err != nil || fl&unix.O_NONBLOCK != 0 {
		t.Errorf("daemon's end of stdin before any write: flags %#o (%v), want blocking", fl, err)
	}
	if _, err := tc.Stdin().Write([]byte("first\n")); err != nil {
		t.Fatal(err)
	}
	tc.stdin.mu.Lock()
	polled = tc.stdin.polled
	tc.stdin.mu.Unlock()
	if err := polled.SetDeadline(time.Time{}); err != nil {
		t.Errorf("daemon's end of stdin after a write: %v, want it in the runtime poller", err)
	}
	if _, err := tc.Stdin().Write([]byte("done\n")); err != nil {
		t.Fatal(err)
	}
	tc.finish(t)
	lines := strings.Fields(strings.ReplaceAll(out.String(), "flags:", ""))
	if len(lines) != 3 {
		t.Fatalf("fdinfo flags of the child's stdio: %q", out.String())
	}
	for fd, f := range lines {
		flags, err := strconv.ParseUint(f, 8, 64)
		if err != nil || flags&syscall.O_NONBLOCK != 0 {
			t.Errorf("child fd %d: flags %s (%v), want blocking", fd, f, err)
		}
	}
}
