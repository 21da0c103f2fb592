package process

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/drover/drover/internal/logs"
)

// TestPollersNeedNoGoroutinePerChild: children with output pipes and their
// exits watched by the pollers add no goroutine, however many there are;
// each exit is still reported with its status, after which the child's
// pidfd is closed, and all its output arrives.
func TestPollersNeedNoGoroutinePerChild(t *testing.T) {
	n := 40
	if raceBuild {
		n = 8 // race-instrumented children and grandchildren start slowly
	}
	// Start the pollers (and the spawn thread) before counting.
	c, _, _ := helperCommand(t, "exit", "0")
	warm := spawnNotified(t, c)
	<-warm.exited
	runtime.GC()
	before := runtime.NumGoroutine()
	pidfdsBefore := pidfds(t)
	var kids []*notified
	var outs []*syncBuffer
	for range n {
		c, out, _ := helperCommand(t, "groupchild")
		kids = append(kids, spawnNotified(t, c))
		outs = append(outs, out)
	}
	time.Sleep(100 * time.Millisecond)
	if grown := runtime.NumGoroutine() - before; grown >= n/2 {
		t.Errorf("%d goroutines more with %d children, want a fixed few", grown, n)
	}
	// Both have written: the grandchild is there, holding the pipe.
	for i, out := range outs {
		for deadline := time.Now().Add(60 * time.Second); strings.Count(out.String(), "\n") < 2; time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("child %d: output %q, want its line and its grandchild's", i, out.String())
			}
		}
	}
	for _, k := range kids {
		if err := k.Signal(syscall.SIGTERM, false); err != nil {
			t.Fatalf("Signal = %v", err)
		}
	}
	for i, k := range kids {
		select {
		case es := <-k.exited:
			if es.Signal != syscall.SIGTERM {
				t.Errorf("child %d: exit %v, want terminated by SIGTERM", i, es)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("child %d: exit not reported", i)
		}
	}
	if left := pidfds(t) - pidfdsBefore; left != 0 {
		t.Errorf("%d pidfds left after every child was reaped", left)
	}
	// The grandchildren still hold the pipes: not drained until they go.
	for i, k := range kids {
		select {
		case <-k.Drained():
			t.Fatalf("child %d: drained while its grandchild holds the pipe", i)
		default:
		}
		syscall.Kill(-k.PID(), syscall.SIGKILL)
	}
	for i, k := range kids {
		select {
		case <-k.Drained():
		case <-time.After(10 * time.Second):
			t.Fatalf("child %d: output never drained after its grandchild died", i)
		}
		// The child's line and its grandchild's, in either order.
		if got := outs[i].String(); strings.Count(got, "\n") != 2 || !strings.Contains(got, "ready\n") || !strings.Contains(got, "gpid ") {
			t.Errorf("child %d: output %q", i, got)
		}
	}
}

// notified is a spawned child whose exit comes through NotifyExit.
type notified struct {
	*child
	exited chan ExitStatus
}

func spawnNotified(t *testing.T, c *Command) *notified {
	t.Helper()
	ch, err := forkExec{}.Spawn(c)
	if err != nil {
		t.Fatalf("Spawn = %v", err)
	}
	k := &notified{child: ch.(*child), exited: make(chan ExitStatus, 1)}
	if !k.NotifyExit(c.Name, func(es ExitStatus) { k.exited <- es }) {
		t.Fatal("NotifyExit = false: no pidfd or no poller")
	}
	t.Cleanup(func() { syscall.Kill(-k.PID(), syscall.SIGKILL) })
	return k
}

// blockingSink holds every write until released, and says when the first
// one came.
type blockingSink struct {
	entered chan struct{}
	release chan struct{}
	once    sync.Once
	lockedBuffer
}

func (b *blockingSink) Write(p []byte) (int, error) {
	b.once.Do(func() { close(b.entered) })
	<-b.release
	return b.lockedBuffer.Write(p)
}

// TestHeldUpSinkLeavesOtherPollers: a sink that blocks (a log on a FIFO
// nobody reads) holds up the driver serving its poller; the pipes of the
// other pollers are still copied, and once the sink takes writes again its
// pipe's output arrives whole and in order.
func TestHeldUpSinkLeavesOtherPollers(t *testing.T) {
	stuck := &blockingSink{entered: make(chan struct{}), release: make(chan struct{})}
	stuckPipe, stuckW := outputPipe(t)
	stuckDone := make(chan struct{})
	stuckPipe.pump(stuck, func() { close(stuckDone) })
	// Another pipe, on another poller (they are handed out in turn).
	var freePipe *pumpedPipe
	var freeW *os.File
	var freeDone chan struct{}
	free := &lockedBuffer{}
	for freePipe == nil || freePipe.poller == stuckPipe.poller {
		pp, w := outputPipe(t)
		if freePipe != nil {
			freeW.Close()
		}
		done := make(chan struct{})
		freePipe, freeW, freeDone = pp, w, done
		freePipe.pump(free, func() { close(done) })
	}
	stuckW.Write([]byte("one\n"))
	select {
	case <-stuck.entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the sink never got its first write")
	}
	stuckW.Write([]byte("two\n"))
	freeW.Write([]byte("free\n"))
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		free.mu.Lock()
		got := free.buf.String()
		free.mu.Unlock()
		if got == "free\n" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("other poller's pipe copied %q while a sink was held up, want %q", got, "free\n")
		}
	}
	close(stuck.release)
	stuckW.Write([]byte("three\n"))
	stuckW.Close()
	freeW.Close()
	for _, done := range []chan struct{}{stuckDone, freeDone} {
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("a pipe never reached its end of file")
		}
	}
	stuck.mu.Lock()
	got := stuck.buf.String()
	stuck.mu.Unlock()
	if got != "one\ntwo\nthree\n" {
		t.Errorf("held-up sink got %q, want %q", got, "one\ntwo\nthree\n")
	}
}

// TestManyPipesKeepOrderThroughRotation: many pipes written at once, so
// that the pollers serve several per wake-up, into logs small enough to
// rotate every few hundred lines, two of the pipes sharing one log: every
// line arrives, each stream's in order, and every rotated file is exactly
// maxbytes.
func TestManyPipesKeepOrderThroughRotation(t *testing.T) {
	const pipes, lines, burst, maxBytes = 24, 3000, 10, 32 << 10
	const lineLen = len("s00 000000 \n") + 40
	dir := t.TempDir()
	var sinks []*logs.ChildLog
	for i := range pipes - 1 { // the last pipe shares the first one's log
		l, err := logs.OpenChild(logs.ChildConfig{Path: filepath.Join(dir, fmt.Sprintf("p%d.log", i)), MaxBytes: maxBytes, Backups: 1000})
		if err != nil {
			t.Fatal(err)
		}
		sinks = append(sinks, l)
	}
	sinks = append(sinks, sinks[0])
	var wg sync.WaitGroup
	for i := range pipes {
		pp, w := outputPipe(t)
		wg.Add(2)
		pp.pump(sinks[i], wg.Done)
		go func() {
			defer wg.Done()
			defer w.Close()
			for n := range lines {
				fmt.Fprintf(w, "s%02d %06d %s\n", i, n, strings.Repeat("x", 40))
				if n%burst == burst-1 {
					time.Sleep(time.Millisecond)
				}
			}
		}()
	}
	wg.Wait()
	next := map[string]int{}
	for i := range pipes - 1 {
		base := filepath.Join(dir, fmt.Sprintf("p%d.log", i))
		backups, _ := filepath.Glob(base + ".*")
		var all []byte
		for n := len(backups); n >= 0; n-- {
			name := base
			if n > 0 {
				name = fmt.Sprintf("%s.%d", base, n)
			}
			data, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			if n > 0 && len(data) != maxBytes {
				t.Errorf("%s: %d bytes, want exactly %d", name, len(data), maxBytes)
			}
			all = append(all, data...)
		}
		for _, line := range strings.Split(strings.TrimSuffix(string(all), "\n"), "\n") {
			var stream string
			var seq int
			if _, err := fmt.Sscanf(line, "%s %d", &stream, &seq); err != nil || len(line) != lineLen-1 {
				t.Fatalf("%s: line %q", base, line)
			}
			if seq != next[stream] {
				t.Fatalf("%s: stream %s line %d, want %d", base, stream, seq, next[stream])
			}
			next[stream]++
		}
	}
	for i := range pipes {
		if s := fmt.Sprintf("s%02d", i); next[s] != lines {
			t.Errorf("stream %s: %d lines, want %d", s, next[s], lines)
		}
	}
}
