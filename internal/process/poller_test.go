package process

import (
	"os"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
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
	stuckR, stuckW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stuckDone := make(chan struct{})
	stuckPipe := &pumpedPipe{r: stuckR}
	stuckPipe.pump(stuck, func() { close(stuckDone) })
	// Another pipe, on another poller (they are handed out in turn).
	var freePipe *pumpedPipe
	var freeW *os.File
	var freeDone chan struct{}
	free := &lockedBuffer{}
	for freePipe == nil || freePipe.poller == stuckPipe.poller {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		if freePipe != nil {
			freeW.Close()
		}
		done := make(chan struct{})
		freePipe, freeW, freeDone = &pumpedPipe{r: r}, w, done
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
