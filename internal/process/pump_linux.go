package process

import (
	"io"
	"sync"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"
)

// The output pipes of all children are read by the pollers
// (poller_linux.go), not by a goroutine each. A pipe belongs to one poller
// from pump to its end of file, unless an upgrade takes it between two
// reads (park) to hand it to the next image, which pumps it as at spawn.
//
// The pollers' epoll sets are level-triggered: a pipe that still holds
// data, or whose writers have all gone, is reported again at the next wait.
// So the child's last output and its closing of the pipe may come in one
// event (a child that writes and exits at once): the read that empties the
// pipe comes back short, and the next wait reports the end of file.

// pumpedPipe is one output pipe of a child, read by a poller.
type pumpedPipe struct {
	fd   int    // the read end, non-blocking; closed at the end (finish)
	what string // names the pump in the report of a panic
	// Set by pump; then owned by the pipe's poller.
	w    io.Writer
	done func()
	// splice is w if it can take bytes from the pipe itself.
	splice splicer
	// mu is held by the poller while it reads the pipe and writes out what
	// it read, and by an upgrade's freeze (park) to take the pipe from its
	// poller between two reads.
	mu     sync.Mutex
	poller *poller // the one watching fd; nil if none took it
	// The flags share one word (a record per output pipe of every child).
	grown   bool
	flooded bool // the last read or splice took a full default pipe or more
	parked  bool // out of its poller's set for an upgrade
	ended   bool // at EOF (or a panic): the pipe is finished and closed
}

// pump copies the pipe to w until EOF (every writer of the pipe,
// grandchildren included, has closed it), then closes it and calls done.
// It returns at once: a poller does the copying. A failing w (a full disk)
// neither stops the draining, so the child never blocks on a full pipe,
// nor the copying: w reports its own errors, and once space is freed the
// output that follows is logged again.
func (pp *pumpedPipe) pump(w io.Writer, done func()) {
	if w == nil {
		w = io.Discard
	}
	pp.w, pp.done = w, done
	pp.splice, _ = w.(splicer)
	pp.mu.Lock()
	watched := pp.toPoller()
	pp.mu.Unlock()
	if !watched {
		pp.finish()
	}
}

// toPoller gives the pipe to a poller, with pp.mu held, and reports whether
// one took it; if none did, the pipe is ended, for the caller to finish.
func (pp *pumpedPipe) toPoller() bool {
	if pp.fd >= 0 {
		if p := nextPollerInTurn(); p != nil && p.add(pp) {
			pp.poller = p
		}
	}
	pp.ended = pp.poller == nil
	return !pp.ended
}

// park takes the pipe from its poller for an upgrade, between two reads:
// every byte read is written out, the rest waits in the pipe for the next
// image. It reports false if the pipe is at its end (closed, or about to be).
func (pp *pumpedPipe) park() bool {
	pp.mu.Lock()
	defer pp.mu.Unlock()
	if pp.ended || pp.parked {
		return false
	}
	pp.poller.forget(pp.fd)
	pp.poller, pp.parked = nil, true
	return true
}

// unpark gives a parked pipe back to a poller, close-on-exec again, after
// an upgrade that did not happen.
func (pp *pumpedPipe) unpark() {
	pp.mu.Lock()
	if !pp.parked {
		pp.mu.Unlock()
		return
	}
	unix.CloseOnExec(pp.fd)
	pp.parked = false
	watched := pp.toPoller()
	pp.mu.Unlock()
	if !watched {
		pp.finish()
	}
}

func (pp *pumpedPipe) pollFD() int       { return pp.fd }
func (pp *pumpedPipe) panicName() string { return pp.what }

// finish closes the pipe and gives back its share of the pipe budget; the
// child, if still writing, gets SIGPIPE.
func (pp *pumpedPipe) finish() {
	if pp.fd >= 0 {
		syscall.Close(pp.fd)
	}
	if pp.grown {
		grownPipes.Add(-1)
	}
	pp.done()
}

// ready copies one read's worth of the pipe to its sink, and reports EOF
// (or a read error: the pipe is then unusable). One read per wake-up, not
// until EAGAIN: the level-triggered set reports what is left, and the other
// ready pipes get their turn first.
func (pp *pumpedPipe) ready(buf []byte) (n int, eof bool) {
	pp.mu.Lock()
	ended := true // a panic finishes the pipe too
	defer func() { pp.ended = ended; pp.mu.Unlock() }()
	if pp.parked { // by a freeze since this wake-up gathered the pipe
		ended = false
		return 0, false
	}
	n, ended = pp.readOnce(buf)
	return n, ended
}

// splicer is a pipe's sink that can take the bytes from the pipe itself
// (logs.ChildLog, a plain log file): handled is false when it moved none,
// and the pipe is then read as usual. A sink that must see the bytes (line
// prefixes, events, capture mode) wraps the log and is no splicer.
type splicer interface {
	SpliceFrom(fd, max int) (n int64, handled bool, err error)
}

// readOnce is ready's read, with pp.mu held. A flooded pipe is spliced
// into its log if it can be: the daemon's two copies of each byte, pipe →
// buffer → file, are the cost of a burst, and splice(2) makes them one.
// Small reads are not: splicing holds a second descriptor on the log file
// and costs an lseek a call, worth it only where the copy saved is large.
func (pp *pumpedPipe) readOnce(buf []byte) (n int, eof bool) {
	if pp.flooded && pp.splice != nil {
		if n, handled, _ := pp.splice.SpliceFrom(pp.fd, len(buf)); handled {
			pp.flooded = n >= defaultPipeSize
			return int(n), false
		}
	}
	for {
		n, err := syscall.Read(pp.fd, buf)
		switch {
		case n > 0:
			pp.w.Write(buf[:n])
			pp.flooded = n >= defaultPipeSize
			if pp.flooded && !pp.grown {
				pp.grown = growPipe(pp.fd)
			}
			return n, false
		case err == syscall.EINTR:
		case err == syscall.EAGAIN:
			return 0, false
		default: // n == 0: EOF
			return 0, true
		}
	}
}

// A pipe that a read empties while full (64 KiB, the default size) is
// flooded: the child blocks every 64 KiB until the daemon has written the
// chunk to the log. Growing the pipe to 1 MiB, read in one go (pumpBufSize),
// cuts those round trips; it took a 2 GiB burst from 53 % to 71 % of the
// speed of the writer redirected to a file.
//
// Pipe memory counts against the daemon user's pipe-user-pages-soft (64 MiB
// by default): beyond it, every new pipe of a non-root user gets only 2
// pages. So at most maxGrownPipes pipes (16 MiB) are grown at a time.
const (
	defaultPipeSize = 64 << 10
	floodPipeSize   = 1 << 20
	maxGrownPipes   = 16
)

var grownPipes atomic.Int32

// growPipe makes the pipe fd floodPipeSize if the budget allows, and
// reports whether it did; the caller gives the budget back at EOF.
func growPipe(fd int) bool {
	if grownPipes.Add(1) > maxGrownPipes {
		grownPipes.Add(-1)
		return false
	}
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETPIPE_SZ, floodPipeSize); err != nil {
		grownPipes.Add(-1)
		return false
	}
	return true
}
