package upgrade_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	rpcclient "github.com/drover/drover/internal/client"
	"github.com/drover/drover/tests/laravelenv"
)

// These tests run the real binary: a daemon upgraded to a new image that
// fails during its take-over.

// binDir holds the binaries built by build, shared by the tests.
var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "drover-upgrade")
	if err != nil {
		panic(err)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// build links drover with the given link flags as binDir/name, once.
func build(t *testing.T, name string, ldflags ...string) string {
	t.Helper()
	out := filepath.Join(binDir, name)
	if _, err := os.Stat(out); err != nil {
		laravelenv.BuildDrover(t, out, ldflags...)
	}
	return out
}

// rig is a daemon running dir/drover with two sleepers and a numbered
// writer, and the programs of extra.
type rig struct {
	t                             *testing.T
	dir, bin, conf, mainLog, sock string
	ctlBin                        string // the first binary installed: bin may be replaced by anything
	daemon                        *exec.Cmd
	exited                        chan error
	procs                         int // how many processes the configuration runs
}

// newRig starts the daemon; extra is more configuration, in which {dir}
// stands for the rig's directory, with procs processes.
func newRig(t *testing.T, installed string, extra string, procs int) *rig {
	t.Helper()
	dir := t.TempDir()
	r := &rig{t: t, dir: dir, bin: filepath.Join(dir, "drover"), conf: filepath.Join(dir, "sd.conf"),
		mainLog: filepath.Join(dir, "main.log"), sock: filepath.Join(dir, "s.sock"), exited: make(chan error, 1),
		ctlBin: installed, procs: 3 + procs}
	laravelenv.Install(t, installed, r.bin)
	sock := r.sock
	conf := fmt.Sprintf(`[unix_http_server]
file=%[1]s
[supervisord]
logfile=%[2]s
pidfile=%[3]s/pid
childlogdir=%[3]s
[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface
[supervisorctl]
serverurl=unix://%[1]s
[program:sleeper]
command=sleep 1000
numprocs=2
process_name=%%(program_name)s_%%(process_num)s
startsecs=0
[program:counter]
command=sh -c 'i=0; while :; do i=$((i+1)); echo $i; [ $((i %%%% 20)) = 0 ] && sleep 0.01; done'
stdout_logfile=%[3]s/counter.log
startsecs=0
`, sock, r.mainLog, dir) + strings.ReplaceAll(extra, "{dir}", dir)
	if err := os.WriteFile(r.conf, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	r.daemon = exec.Command(r.bin, "daemon", "-n", "-c", r.conf)
	out, err := os.Create(filepath.Join(dir, "daemon.out"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	r.daemon.Stdout, r.daemon.Stderr = out, out
	if err := r.daemon.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { r.exited <- r.daemon.Wait() }()
	t.Cleanup(func() {
		r.daemon.Process.Signal(syscall.SIGTERM)
		select {
		case <-r.exited:
		case <-time.After(20 * time.Second):
			r.daemon.Process.Kill()
		}
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(dir, "daemon.out"))
			t.Logf("daemon's output (main log):\n%s", b)
		}
	})
	return r
}

// ctl runs drover's supervisorctl (the installed binary) and returns its
// output and exit status.
func (r *rig) ctl(args ...string) (string, int) {
	cmd := exec.Command(r.ctlBin, append([]string{"ctl", "-c", r.conf}, args...)...)
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return string(out), ee.ExitCode()
	} else if err != nil {
		r.t.Fatalf("ctl %v: %v", args, err)
	}
	return string(out), 0
}

var statusRe = regexp.MustCompile(`(?m)^(\S+)\s+(\S+)\s+pid (\d+),`)

// running waits until every process is RUNNING and returns their pids.
func (r *rig) running() map[string]int {
	r.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, _ := r.ctl("status")
		pids := map[string]int{}
		for _, m := range statusRe.FindAllStringSubmatch(out, -1) {
			if m[2] == "RUNNING" {
				pids[m[1]], _ = strconv.Atoi(m[3])
			}
		}
		if len(pids) == r.procs {
			return pids
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("not %d processes RUNNING:\n%s", r.procs, out)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	return err == nil && !regexp.MustCompile(`(?m)^State:\s+Z`).Match(b)
}

// A new image that fails during its take-over (a panic, injected by a link
// flag, after the dry run passed) execs the previous image back, which
// takes every child again: same pids, still supervised (an exit is seen and
// autorestarted, a stop stops), the numbered output complete.
func TestFailedTakeOverFallsBack(t *testing.T) {
	good := build(t, "good", "-X github.com/drover/drover/internal/version.Build=before")
	bad := build(t, "bad", "-X github.com/drover/drover/internal/version.Build=fallback-bad",
		"-X github.com/drover/drover/internal/handover.injectedFault=panic")
	r := newRig(t, good, "", 0)
	before := r.running()
	laravelenv.Install(t, bad, r.bin)
	out, code := r.ctl("upgrade")
	if code != 1 || !strings.Contains(out, "ERROR: the take-over failed and drover before took the programs back") {
		t.Fatalf("upgrade to a failing image: exit %d:\n%s", code, out)
	}
	after := r.running()
	for name, pid := range before {
		if after[name] != pid {
			t.Errorf("%s: pid %d after the fallback, was %d", name, after[name], pid)
		}
	}
	log, _ := os.ReadFile(r.mainLog)
	if !strings.Contains(string(log), "CRIT upgrade failed: the new image gave up the take-over: panic in take-over check: injected fault: panic; drover before took its 3 process(es) back") {
		t.Errorf("main log: no fallback line")
	}
	r.stillSupervised(before)
}

// stillSupervised checks that the daemon supervises the processes of
// before (pids by name) as it did: an exit is reaped and autorestarted, a
// stop stops, and the numbered output lost and repeated no line.
func (r *rig) stillSupervised(before map[string]int) {
	t := r.t
	t.Helper()
	syscall.Kill(before["sleeper:sleeper_0"], syscall.SIGKILL)
	deadline := time.Now().Add(20 * time.Second)
	for {
		pids := r.running()
		if p := pids["sleeper:sleeper_0"]; p != before["sleeper:sleeper_0"] {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("sleeper_0 not restarted after it was killed")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if out, code := r.ctl("stop", "counter"); code != 0 || !strings.Contains(out, "counter: stopped") {
		t.Fatalf("stop counter: exit %d: %s", code, out)
	}
	if alive(before["counter"]) {
		t.Errorf("counter (pid %d) still alive after its stop", before["counter"])
	}
	checkNumbered(t, filepath.Join(r.dir, "counter.log"))
}

// An execve that fails in the old image (here the binary on disk loses its
// execute permission once the dry run has passed) leaves that image
// running: it thaws every runner, serves its sockets again, and the client
// of the upgrade is told why at once. Every pid is kept, the processes are
// still supervised, and the next upgrade works.
func TestFailedExecRunsOn(t *testing.T) {
	good := build(t, "good", "-X github.com/drover/drover/internal/version.Build=before")
	loses := filepath.Join(t.TempDir(), "loses-exec")
	script := "#!/bin/sh\n" + good + " \"$@\"\nrc=$?\nchmod a-x \"$0\"\nexit $rc\n"
	if err := os.WriteFile(loses, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	r := newRig(t, good, "", 0)
	before := r.running()
	laravelenv.Install(t, loses, r.bin)
	out, code := r.ctl("upgrade")
	want := "upgrading drover before to drover before\nERROR: the upgrade did not happen, drover before runs on with every program: execve " +
		r.bin + ": permission denied"
	if code != 1 || !strings.Contains(out, want) {
		t.Fatalf("upgrade whose exec fails: exit %d:\n%s\nwant %q", code, out, want)
	}
	after := r.running()
	for name, pid := range before {
		if after[name] != pid {
			t.Errorf("%s: pid %d after the failed exec, was %d", name, after[name], pid)
		}
	}
	log, _ := os.ReadFile(r.mainLog)
	if !strings.Contains(string(log), "ERRO upgrade failed, running on: execve "+r.bin+": permission denied") {
		t.Errorf("main log: no failure line")
	}
	laravelenv.Install(t, good, r.bin)
	if out, code := r.ctl("upgrade"); code != 0 || !strings.Contains(out, "upgraded: drover before is running") {
		t.Fatalf("the upgrade after the failed one: exit %d:\n%s", code, out)
	}
	if after := r.running(); after["counter"] != before["counter"] {
		t.Errorf("counter: pid %d after the second upgrade, was %d", after["counter"], before["counter"])
	}
	r.stillSupervised(before)
}

// A new image that dies without a chance to fall back (here a "binary"
// that passes the dry run but exits at once, as a SIGKILL would end it)
// ends the daemon process: its children get their parent-death signal
// (stopsignal, the default) from the kernel and stop; none is left running
// unsupervised. This is the documented limit of the fallback.
func TestTakeOverDeathStopsChildren(t *testing.T) {
	good := build(t, "good", "-X github.com/drover/drover/internal/version.Build=before")
	dies := filepath.Join(t.TempDir(), "dies")
	script := "#!/bin/sh\nfor a; do [ \"$a\" = --check-handover ] && exec " + good + " \"$@\"; done\nexit 3\n"
	if err := os.WriteFile(dies, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	r := newRig(t, good, "", 0)
	before := r.running()
	laravelenv.Install(t, dies, r.bin)
	if out, code := r.ctl("upgrade"); code != 1 || !strings.Contains(out, "upgrading drover before to drover before\nERROR: the daemon is gone") {
		t.Fatalf("upgrade: exit %d:\n%s", code, out)
	}
	select {
	case err := <-r.exited:
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 3 {
			t.Errorf("daemon process: %v, want exit status 3 (the dying image's)", err)
		}
		r.exited <- err // for the cleanup
	case <-time.After(30 * time.Second):
		t.Fatal("the daemon process did not end")
	}
	deadline := time.Now().Add(10 * time.Second)
	for name, pid := range before {
		for alive(pid) {
			if time.Now().After(deadline) {
				t.Fatalf("%s (pid %d) still running after the daemon died", name, pid)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// startRedis runs a redis-server for the test, which it skips without one
// (or without redis-cli).
func startRedis(t *testing.T) *laravelenv.Redis {
	t.Helper()
	if laravelenv.MissingTool("", "redis-server", "redis-cli") != "" {
		t.Skip("redis-server and redis-cli are needed")
	}
	srv := laravelenv.NewRedis(t, t.TempDir())
	srv.Start(t, 50*time.Millisecond)
	return srv
}

// checkNumbered checks that path holds 1, 2, 3, … with none missing or repeated.
func checkNumbered(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	for i, l := range lines {
		if l != strconv.Itoa(i+1) {
			t.Fatalf("%s: line %d is %q", path, i+1, l)
		}
	}
	if len(lines) < 50 {
		t.Errorf("%s: only %d lines", path, len(lines))
	}
}

// Bytes sent with sendProcessStdin that the child has not read yet are
// handed over: the new image writes them, none lost or repeated. The
// reader reads nothing until after the upgrade, so all but what the pipe
// holds wait in the daemon's queue across the switch.
func TestStdinQueueHandedOver(t *testing.T) {
	good := build(t, "good", "-X github.com/drover/drover/internal/version.Build=before")
	reader := `[program:reader]
command=sh -c 'while [ ! -e {dir}/go ]; do sleep 0.05; done; exec cat > {dir}/stdin.out'
startsecs=0
`
	r := newRig(t, good, reader, 1)
	before := r.running()
	var sent []byte
	c := rpcclient.New("unix://"+r.sock, "", "")
	defer c.Close()
	line := 0
	for range 3 { // 3 × 100 KiB: the pipe holds 64 KiB
		var chunk bytes.Buffer
		for chunk.Len() < 100<<10 {
			line++
			fmt.Fprintf(&chunk, "%07d\n", line)
		}
		if _, err := c.Call(context.Background(), "supervisor.sendProcessStdin", "reader", chunk.String()); err != nil {
			t.Fatal(err)
		}
		sent = append(sent, chunk.Bytes()...)
	}
	if out, code := r.ctl("upgrade"); code != 0 || !strings.Contains(out, "upgraded: drover before is running") {
		t.Fatalf("upgrade: exit %d:\n%s", code, out)
	}
	if err := os.WriteFile(filepath.Join(r.dir, "go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(r.dir, "stdin.out")
	var got []byte
	for deadline := time.Now().Add(20 * time.Second); len(got) < len(sent) && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		got, _ = os.ReadFile(out)
	}
	time.Sleep(200 * time.Millisecond) // and nothing more arrives
	got, _ = os.ReadFile(out)
	if !bytes.Equal(got, sent) {
		t.Errorf("the reader got %d bytes, want the %d sent, in order (first difference at byte %d)", len(got), len(sent), firstDifference(got, sent))
	}
	if after := r.running(); after["reader"] != before["reader"] {
		t.Errorf("reader: pid %d after the upgrade, was %d", after["reader"], before["reader"])
	}
}

// firstDifference is the index of the first byte where a and b differ.
func firstDifference(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// An autoscaled pool grown beyond numprocs keeps its size across an
// upgrade: every worker (the spares included) keeps its pid, the scaler
// goes on from its state (its last resize is the one before the upgrade),
// and it still shrinks the pool, stopping adopted spares.
func TestScaledPoolKeepsItsSize(t *testing.T) {
	redis := startRedis(t)
	good := build(t, "good", "-X github.com/drover/drover/internal/version.Build=before")
	redisCLI := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("redis-cli", append([]string{"-p", strconv.Itoa(redis.Port)}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("redis-cli %v: %v: %s", args, err, out)
		}
	}
	redisCLI("rpush", "jobs", "1", "2", "3") // sleepers never take them: the pool wants 3 workers
	r := newRig(t, good, scalingPool(redis.Port, 4, "sleep 1000", ""), 3)
	before := r.running()
	lastResize := func() int {
		t.Helper()
		c := rpcclient.New("unix://"+r.sock, "", "")
		defer c.Close()
		pools, err := c.Pools(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range pools {
			if p.Group == "pool" {
				return p.LastResize
			}
		}
		t.Fatalf("drover.getPools: no pool: %v", pools)
		return 0
	}
	resized := lastResize()
	if out, code := r.ctl("upgrade"); code != 0 || !strings.Contains(out, "upgraded: drover before is running") {
		t.Fatalf("upgrade of a daemon whose pool is scaled up: exit %d:\n%s", code, out)
	}
	if got := lastResize(); got != resized || got == 0 {
		t.Errorf("pool's last resize after the upgrade: %d, want %d (handed over)", got, resized)
	}
	time.Sleep(2 * time.Second) // two scaler ticks in the new image: the size is kept
	after := r.running()
	for name, pid := range before {
		if after[name] != pid {
			t.Errorf("%s: pid %d after the upgrade, was %d", name, after[name], pid)
		}
	}
	redisCLI("del", "jobs")
	r.procs = 3 + 1
	r.running() // back at numprocs_min: the adopted spares stopped and removed
	for name, pid := range before {
		if strings.HasPrefix(name, "pool:") && name != "pool:pool_0" && alive(pid) {
			t.Errorf("%s (pid %d) still alive after the pool shrank", name, pid)
		}
	}
}

// A FastCGI group's socket is handed over: the children keep accepting on
// it across the upgrade (same pid, same socket file, a connection made
// meanwhile is answered), and the new image closes it when the last child
// holding it is stopped, as the old one would have.
func TestFastCGISocketHandedOver(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("needs python3")
	}
	good := build(t, "good", "-X github.com/drover/drover/internal/version.Build=before")
	child := `import os, socket
listener = socket.socket(fileno=0)
while True:
    conn, _ = listener.accept()
    conn.sendall(b"%d\n" % os.getpid())
    conn.close()
`
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "child.py"), []byte(child), 0o644); err != nil {
		t.Fatal(err)
	}
	sockPath := filepath.Join(dir, "fc.sock")
	r := newRig(t, good, fmt.Sprintf("[fcgi-program:fc]\ncommand=python3 %s\nsocket=unix://%s\nstartsecs=0\n",
		filepath.Join(dir, "child.py"), sockPath), 1)
	before := r.running()
	ask := func() string {
		t.Helper()
		c, err := net.DialTimeout("unix", sockPath, 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(60 * time.Second)) // python's start on a loaded machine
		b, err := io.ReadAll(c)
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(b))
	}
	if got := ask(); got != strconv.Itoa(before["fc"]) {
		t.Fatalf("the FastCGI child answered %q, want its pid %d", got, before["fc"])
	}
	inode := func() uint64 {
		var st syscall.Stat_t
		if err := syscall.Stat(sockPath, &st); err != nil {
			t.Fatal(err)
		}
		return st.Ino
	}
	was := inode()
	if out, code := r.ctl("upgrade"); code != 0 || !strings.Contains(out, "upgraded: drover before is running") {
		t.Fatalf("upgrade with a FastCGI group: exit %d:\n%s", code, out)
	}
	if got := ask(); got != strconv.Itoa(before["fc"]) {
		t.Errorf("after the upgrade the FastCGI child answered %q, want its pid %d", got, before["fc"])
	}
	if inode() != was {
		t.Error("the socket file was made again")
	}
	if after := r.running(); after["fc"] != before["fc"] {
		t.Errorf("fc: pid %d after the upgrade, was %d", after["fc"], before["fc"])
	}
	if out, code := r.ctl("stop", "fc"); code != 0 {
		t.Fatalf("stop fc: exit %d: %s", code, out)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		log, _ := os.ReadFile(r.mainLog)
		if strings.Contains(string(log), "INFO Closing socket unix://"+sockPath) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the new image did not close the socket once its last child stopped")
		}
	}
}
