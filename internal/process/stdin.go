package process

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/drover/drover/internal/guard"
)

// maxStdinQueued bounds what waits for a child that does not read its
// stdin: a write is refused (ErrStdinFull) while the queue holds data and
// would grow past it. Supervisor buffers without bound (300 sends of 1 MB to
// a child that did not read took Drover to 537 MB).
const maxStdinQueued = 1 << 20

// stdinWriter queues writes to a child's stdin pipe and flushes them from a
// goroutine (running only while data is pending), so a child that does not
// read never blocks the caller: Supervisor buffers sendProcessStdin data too,
// within maxStdinQueued here.
// After a failed write every later Write returns that error (EPIPE once the
// child closed its stdin, os.ErrClosed once it was reaped).
// Without a pipe (the child's fd 0 is not ours) every Write fails with
// EPIPE, as a write to a pipe nobody reads.
//
// The pipe is a bare blocking descriptor, out of the runtime's poller,
// until the first Write makes it non-blocking and polled: most children
// are never written to, and for each the poller's record of a descriptor
// (about 300 bytes, never given back to the heap) and an *os.File (about
// 100 bytes) are saved.
type stdinWriter struct {
	mu sync.Mutex
	// fd (guarded by mu) is the pipe's write end before the first Write;
	// -1 once polled has it, once closed, or without a pipe.
	fd int32
	// piped: the child's stdin is a pipe of ours (set once).
	piped    bool
	flushing bool     // guarded by mu: a flush goroutine is running
	held     bool     // guarded by mu: hold stops the flush for an upgrade
	polled   *os.File // guarded by mu: the pipe in the runtime's poller; nil before the first Write
	queue    [][]byte // guarded by mu
	queued   int      // guarded by mu: bytes queued or being written
	err      error    // guarded by mu: first write error
	// idle (guarded by mu), if not nil, is closed when the flush goroutine
	// has stopped after hold.
	idle chan struct{}
}

// errStdinHeld refuses a write while the queue is being handed over.
var errStdinHeld = errors.New("stdin is being handed over to a new daemon image; send again")

// newStdinWriter writes to the pipe end fd, a blocking descriptor it then
// owns; -1 for none.
func newStdinWriter(fd int) *stdinWriter {
	if fd < 0 {
		return &stdinWriter{fd: -1, err: syscall.EPIPE}
	}
	return &stdinWriter{fd: int32(fd), piped: true}
}

func (w *stdinWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return 0, w.err
	}
	if w.held {
		return 0, errStdinHeld
	}
	if w.queued > 0 && w.queued+len(p) > maxStdinQueued {
		return 0, ErrStdinFull
	}
	if w.polled == nil {
		// O_NONBLOCK is a flag of each end: the child's stays blocking.
		if err := unix.SetNonblock(int(w.fd), true); err != nil {
			return 0, err
		}
		w.polled, w.fd = os.NewFile(uintptr(w.fd), "|1"), -1
	}
	w.queued += len(p)
	w.queue = append(w.queue, append([]byte(nil), p...))
	if !w.flushing {
		w.flushing = true
		go w.guardedFlush()
	}
	return len(p), nil
}

// guardedFlush is flush that, after a panic, fails the writer for good
// rather than leave it flushing forever with a growing queue.
func (w *stdinWriter) guardedFlush() {
	if p := guard.Run("stdin writer", w.flush); p != nil {
		w.mu.Lock()
		w.err, w.queue, w.flushing = p, nil, false
		w.mu.Unlock()
	}
}

func (w *stdinWriter) flush() {
	for {
		w.mu.Lock()
		if len(w.queue) == 0 || w.err != nil || w.held {
			if w.err != nil || !w.held {
				w.queue = nil
			}
			w.flushing = false
			if w.idle != nil {
				close(w.idle)
				w.idle = nil
			}
			w.mu.Unlock()
			return
		}
		p, f := w.queue[0], w.polled
		w.queue = w.queue[1:]
		w.mu.Unlock()
		n, err := f.Write(p)
		w.mu.Lock()
		w.queued -= n
		switch {
		case w.held && errors.Is(err, os.ErrDeadlineExceeded):
			// Cut short by hold: the rest goes first when the flush resumes.
			w.queue = append([][]byte{p[n:]}, w.queue...)
		case err != nil:
			w.queued -= len(p) - n
			w.err = err
		}
		w.mu.Unlock()
	}
}

// hold stops the flush between two bytes (a write in progress returns at
// once with what it wrote) and returns the bytes queued and not written
// yet, for an upgrade to hand over; resume undoes it. Writes are refused
// meanwhile.
func (w *stdinWriter) hold() ([]byte, error) {
	w.mu.Lock()
	w.held = true
	var idle chan struct{}
	if w.flushing {
		idle = make(chan struct{})
		w.idle = idle
	}
	f := w.polled
	w.mu.Unlock()
	if idle != nil {
		if err := f.SetWriteDeadline(time.Now()); err != nil {
			w.resume()
			return nil, fmt.Errorf("interrupt the write to stdin: %w", err)
		}
		<-idle
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return nil, nil
	}
	return bytes.Join(w.queue, nil), nil
}

// resume lets the flush go on after hold.
func (w *stdinWriter) resume() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.polled != nil {
		w.polled.SetWriteDeadline(time.Time{})
	}
	w.held = false
	if len(w.queue) > 0 && w.err == nil && !w.flushing {
		w.flushing = true
		go w.guardedFlush()
	}
}

// Close closes the pipe; a blocked flush returns os.ErrClosed.
func (w *stdinWriter) Close() error {
	w.mu.Lock()
	if w.err == nil {
		w.err = os.ErrClosed
	}
	polled, fd := w.polled, w.fd
	w.fd = -1
	w.mu.Unlock()
	if polled != nil {
		return polled.Close()
	}
	if fd >= 0 {
		return unix.Close(int(fd))
	}
	return nil
}

// withFD runs do with the pipe's descriptor; not at all once it is closed,
// or without a pipe.
func (w *stdinWriter) withFD(do func(fd int)) {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case w.polled != nil:
		withFD(w.polled, do)
	case w.fd >= 0:
		do(int(w.fd))
	}
}
