package process

import (
	"bytes"
	"errors"
	"io"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// A child that does not read gets at most maxStdinQueued bytes queued (past
// what the pipe holds); once it reads, writes are accepted again.
func TestStdinQueueBounded(t *testing.T) {
	r, w := testStdinPipe(t)
	defer r.Close()
	defer w.Close()
	chunk := make([]byte, 256<<10)
	accepted := 0
	for range 100 {
		if _, err := w.Write(chunk); err != nil {
			if !errors.Is(err, ErrStdinFull) {
				t.Fatalf("write: %v, want ErrStdinFull", err)
			}
			break
		}
		accepted += len(chunk)
	}
	// The pipe holds 64 KiB (or up to 1 MiB when raised); the queue the rest.
	if accepted > 2*maxStdinQueued+len(chunk) || accepted < maxStdinQueued {
		t.Fatalf("%d bytes accepted for a child that does not read", accepted)
	}
	buf := make([]byte, 1<<20)
	for got := 0; got < accepted; {
		n, err := r.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		got += n
	}
	if _, err := w.Write(chunk); err != nil {
		t.Errorf("write once the child read everything: %v", err)
	}
}

// hold stops the flush in the middle of a write and returns exactly the
// bytes that did not reach the pipe; writes are refused meanwhile; resume
// writes the rest. Nothing is lost or repeated.
func TestStdinHoldReturnsWhatIsNotWritten(t *testing.T) {
	r, w := testStdinPipe(t)
	defer r.Close()
	defer w.Close()
	var all []byte
	for i := range 3 {
		chunk := bytes.Repeat([]byte{'a' + byte(i)}, 100<<10) // each larger than the pipe
		if _, err := w.Write(chunk); err != nil {
			t.Fatal(err)
		}
		all = append(all, chunk...)
	}
	// Wait until the flush is in its first write, which the full pipe blocks.
	for deadline := time.Now().Add(10 * time.Second); pipeHolds(t, r) == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("nothing reached the pipe")
		}
	}
	pending, err := w.hold()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("x")); !errors.Is(err, errStdinHeld) {
		t.Errorf("write while held: %v, want errStdinHeld", err)
	}
	inPipe := readFull(t, r, pipeHolds(t, r))
	if pipeHolds(t, r) != 0 || !bytes.Equal(append(inPipe, pending...), all) {
		t.Fatalf("%d bytes in the pipe and %d pending, want their sum to be the %d written, in order", len(inPipe), len(pending), len(all))
	}
	w.resume()
	if rest := readFull(t, r, len(pending)); !bytes.Equal(rest, pending) {
		t.Error("after resume the pipe got other bytes than the pending ones")
	}
}

// testStdinPipe makes a pipe as Spawn makes a child's stdin: the child's end
// r, and a stdinWriter on the daemon's end.
func testStdinPipe(t *testing.T) (r *os.File, w *stdinWriter) {
	t.Helper()
	parent, child, err := pipe(false)
	if err != nil {
		t.Fatal(err)
	}
	return os.NewFile(uintptr(child), "|0"), newStdinWriter(parent)
}

// pipeHolds is how many bytes wait in the pipe r (TIOCINQ is FIONREAD).
func pipeHolds(t *testing.T, r *os.File) int {
	t.Helper()
	rc, err := r.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var n int
	rc.Control(func(fd uintptr) { n, err = unix.IoctlGetInt(int(fd), unix.TIOCINQ) })
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// readFull reads n bytes from r.
func readFull(t *testing.T, r *os.File, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	r.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadFull(r, b); err != nil {
		t.Fatal(err)
	}
	return b
}
