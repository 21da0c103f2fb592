package supervisor

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/eventlistener"
	"github.com/drover/drover/internal/events"
	"github.com/drover/drover/internal/process"
)

// Freeze then thaw (an upgrade whose exec failed) with a real child that
// writes as fast as it can: the snapshot names its live pipes, made
// inheritable, and thawing gives everything back: close-on-exec again,
// the output goes on with no line lost or repeated.
func TestFreezeThawKeepsOutput(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "count.log")
	g := program("count", 1, 1, "/bin/sh", "-c", "i=0; while :; do i=$((i+1)); echo $i; done")
	g.Processes[0].StartSecs = 0
	g.Processes[0].Stdout = config.ChildLog{Kind: config.LogFile, Path: out}
	s := New(configOf(dir, g), Options{})
	done := make(chan error, 1)
	go func() { _, err := s.Run(t.Context()); done <- err }()
	<-s.Ready()
	for s.AllProcesses()[0].Info().State != process.Running {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)

	frozen, thaw, err := s.Freeze()
	if err != nil {
		t.Fatal(err)
	}
	snap := frozen.Processes[0].Snapshot
	if snap.State != process.Running || snap.PID == 0 || snap.StdoutFD < 0 || snap.StdinFD < 0 {
		t.Errorf("snapshot %+v: want RUNNING with a pid, stdin and stdout", snap)
	}
	if flags, err := unix.FcntlInt(uintptr(snap.StdoutFD), unix.F_GETFD, 0); err != nil || flags&unix.FD_CLOEXEC != 0 {
		t.Errorf("frozen stdout fd %d: flags %d, %v; want inheritable", snap.StdoutFD, flags, err)
	}
	time.Sleep(100 * time.Millisecond) // the child fills its pipe and waits
	thaw()
	if flags, _ := unix.FcntlInt(uintptr(snap.StdoutFD), unix.F_GETFD, 0); flags&unix.FD_CLOEXEC == 0 {
		t.Errorf("thawed stdout fd %d is still inheritable", snap.StdoutFD)
	}
	time.Sleep(100 * time.Millisecond)
	s.Shutdown()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	lines = lines[:len(lines)-1] // after the last newline; the child may die mid-line
	for i, l := range lines {
		if l != strconv.Itoa(i+1) {
			t.Fatalf("line %d is %q", i+1, l)
		}
	}
	if len(lines) < 100 {
		t.Errorf("only %d lines", len(lines))
	}
}

func TestFreezeRefusedWhileShuttingDown(t *testing.T) {
	s := New(configOf(t.TempDir(), program("a", 1, 1)), Options{Spawner: newFakeSpawner()})
	s.setMood(MoodShutdown)
	if err := s.CheckFreezable(); !errors.Is(err, ErrUpgradeRefused) || !strings.Contains(err.Error(), "the daemon is") {
		t.Errorf("CheckFreezable while shutting down: %v", err)
	}
}

// A worker pool taken over is made of exactly the workers handed over, as
// its scaler had sized it: a spare (beyond numprocs) is there, a
// configured worker the scaler had removed is not. Other groups, and a
// pool without adoptions, have their configured processes.
func TestTakeOverKeepsPoolMembers(t *testing.T) {
	pool := program("pool", 1, 4)
	pool.Processes, pool.Spares = pool.Processes[:2], pool.Processes[2:]
	plain := program("plain", 1, 2)
	adopt := map[string]Adopted{}
	for _, n := range []string{"pool:pool_00", "pool:pool_02", "plain:plain_00"} {
		adopt[n] = Adopted{Snapshot: process.Snapshot{State: process.Stopped}}
	}
	s := New(configOf(t.TempDir(), pool, plain), Options{Spawner: newFakeSpawner(), Adopt: adopt})
	if got := names(s.Group("pool").Processes); strings.Join(got, " ") != "pool:pool_00 pool:pool_02" {
		t.Errorf("pool taken over: %v, want pool_00 and the spare pool_02", got)
	}
	if got := names(s.Group("plain").Processes); strings.Join(got, " ") != "plain:plain_00 plain:plain_01" {
		t.Errorf("plain group: %v, want its configured processes", got)
	}
	fresh := New(configOf(t.TempDir(), pool), Options{Spawner: newFakeSpawner()})
	if got := names(fresh.Group("pool").Processes); strings.Join(got, " ") != "pool:pool_00 pool:pool_01" {
		t.Errorf("pool not taken over: %v, want its configured processes", got)
	}
}

// A line start held back for the log's line prefix is written at the
// freeze, as a pause in the output would write it, not lost with the image.
func TestFreezeWritesHeldBackLineStart(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out.log")
	g := program("part", 1, 1, "/bin/sh", "-c", "printf 'whole\\npart'; exec sleep 100")
	g.Processes[0].StartSecs = 0
	g.Processes[0].Stdout = config.ChildLog{Kind: config.LogFile, Path: out, LinePrefix: "> "}
	s := New(configOf(dir, g), Options{})
	done := make(chan error, 1)
	go func() { _, err := s.Run(t.Context()); done <- err }()
	<-s.Ready()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if b, _ := os.ReadFile(out); string(b) == "> whole\n" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the whole line did not reach the log")
		}
	}
	time.Sleep(50 * time.Millisecond) // "part" is read (the child wrote it with "whole")
	_, thaw, err := s.Freeze()
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(out); string(b) != "> whole\n> part\n" {
		t.Errorf("log at the freeze: %q, want the held-back start written", b)
	}
	thaw()
	s.Shutdown()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// listenerScript is an event listener in sh: it appends each event's
// header to $EVENTS and, while the file $HOLD exists, stays BUSY with it.
const listenerScript = `echo READY
while read -r h; do
  dd bs=1 count="${h##*len:}" >/dev/null 2>&1
  echo "$h" >> "$EVENTS"
  while [ -e "$HOLD" ]; do sleep 0.02; done
  printf 'RESULT 2\nOKREADY\n'
done`

// A freeze holds the event listener pools and hands over a BUSY listener
// with the event it is busy with, the buffer and the serials; a thaw (the
// exec failed) lets the listener answer and get the rest, numbered on.
func TestFreezeThawHandsOverListener(t *testing.T) {
	dir := t.TempDir()
	evlog, hold := filepath.Join(dir, "events"), filepath.Join(dir, "hold")
	if err := os.WriteFile(hold, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	g := program("lsn", 1, 1, "/bin/sh", "-c", listenerScript)
	g.Kind, g.Events, g.BufferSize = config.KindEventListener, []string{"PROCESS_STATE"}, 10
	pc := g.Processes[0]
	pc.StartSecs = 0
	pc.Environment = []config.EnvVar{{Key: "EVENTS", Value: evlog}, {Key: "HOLD", Value: hold}}
	s := New(configOf(dir, g), Options{})
	done := make(chan error, 1)
	go func() { _, err := s.Run(t.Context()); done <- err }()
	<-s.Ready()
	waitLines := func(n int) []string {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			b, _ := os.ReadFile(evlog)
			if lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n"); len(b) > 0 && len(lines) >= n {
				return lines
			}
			if time.Now().After(deadline) {
				t.Fatalf("fewer than %d events received", n)
			}
		}
	}
	// lsn's own STARTING; its RUNNING waits in the buffer. The global
	// serial is process-wide (as Supervisor's), so earlier tests in this
	// binary (-count=2, other listeners) have used some: it is read here.
	first := int64(-1)
	for _, f := range strings.Fields(waitLines(1)[0]) {
		if v, ok := strings.CutPrefix(f, "serial:"); ok {
			first, _ = strconv.ParseInt(v, 10, 64)
		}
	}
	if first < 0 {
		t.Fatalf("no serial in the first event's header %q", waitLines(1)[0])
	}

	frozen, thaw, err := s.Freeze()
	if err != nil {
		t.Fatal(err)
	}
	ev := frozen.Events
	if ev.Serial != first+1 || len(ev.Pools) != 1 {
		t.Fatalf("handed over %+v: want the global serial %d and the pool", ev, first+1)
	}
	hp := ev.Pools[0]
	if hp.Serial != 1 || len(hp.Buffer) != 1 || hp.Buffer[0].Name != "PROCESS_STATE_RUNNING" || hp.Buffer[0].Serial != first+1 || len(hp.Listeners) != 1 {
		t.Fatalf("pool handed over: %+v", hp)
	}
	hs := hp.Listeners[0].Session
	if hp.Listeners[0].State != "RUNNING" || hs == nil || hs.Protocol != eventlistener.Busy ||
		hs.PID != frozen.Processes[0].Snapshot.PID || hs.Event == nil || hs.Event.Name != "PROCESS_STATE_STARTING" {
		t.Fatalf("listener handed over: %+v, session %+v", hp.Listeners[0], hs)
	}
	if err := s.EventsSinceFreeze(); err != nil {
		t.Errorf("EventsSinceFreeze: %v", err)
	}
	thaw()
	os.Remove(hold)
	lines := waitLines(2)
	for i, want := range []string{
		fmt.Sprintf("serial:%d pool:lsn poolserial:0 eventname:PROCESS_STATE_STARTING", first),
		fmt.Sprintf("serial:%d pool:lsn poolserial:1 eventname:PROCESS_STATE_RUNNING", first+1),
	} {
		if !strings.Contains(lines[i], want) {
			t.Errorf("event %d: %q, want %q", i, lines[i], want)
		}
	}
	s.Shutdown()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// The image that took over publishes no PROCESS_GROUP_ADDED for the groups
// handed over and no SUPERVISOR_STATE_CHANGE_RUNNING (to a listener
// nothing started); a group new in the file is added as at any start.
func TestTakeOverPublishesNoStart(t *testing.T) {
	bus := &events.Bus{}
	sub := bus.Subscribe(events.Kinds("PROCESS_GROUP", "SUPERVISOR_STATE_CHANGE"))
	adopt := map[string]Adopted{"old": {Snapshot: process.Snapshot{State: process.Stopped}}}
	s := New(configOf(t.TempDir(), program("old", 1, 1), program("added", 2, 1)),
		Options{Spawner: newFakeSpawner(), Events: bus, Adopt: adopt})
	done := make(chan error, 1)
	go func() { _, err := s.Run(t.Context()); done <- err }()
	<-s.Ready()
	var got []string
	for _, e := range sub.Next() {
		got = append(got, fmt.Sprintf("%s %+v", e.Name(), e))
	}
	if want := []string{"PROCESS_GROUP_ADDED {Group:added}"}; !slices.Equal(got, want) {
		t.Errorf("published %q, want %q", got, want)
	}
	s.Shutdown()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
