package process

import (
	"errors"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// pumpBufs holds the read buffers of all pumps. A pump borrows one only
// while its pipe has data, so the hundreds of idle pipes of a big
// configuration hold no memory.
var pumpBufs = sync.Pool{New: func() any { return new([pumpBufSize]byte) }}

// pumpedPipe is one output pipe of a child, read by its pump.
type pumpedPipe struct {
	r *os.File
	// childExited is set once the child has exited: from then on the
	// pipe's remaining writers are its descendants, if any.
	childExited atomic.Bool
	// parkMu guards parking, set while an upgrade holds the pump between
	// two reads (park), and ended, set when the pump has returned.
	parkMu  sync.Mutex
	parking *parking
	ended   bool
}

// parking is one park of a pump: parked is closed by the pump once it
// holds (or has returned: gone), resume by unpark.
type parking struct {
	parked, resume chan struct{}
	gone           bool
}

// park holds the pump between two reads, every byte it read written out,
// and reports whether it did (false: the pump has returned, the pipe is closed).
func (pp *pumpedPipe) park() bool {
	p := &parking{parked: make(chan struct{}), resume: make(chan struct{})}
	pp.parkMu.Lock()
	if pp.ended {
		pp.parkMu.Unlock()
		return false
	}
	pp.parking = p
	pp.parkMu.Unlock()
	pp.r.SetReadDeadline(time.Now()) // wakes the pump, as childGone does
	<-p.parked
	return !p.gone
}

// unpark lets a parked pump read on.
func (pp *pumpedPipe) unpark() {
	pp.parkMu.Lock()
	p := pp.parking
	pp.parking = nil
	pp.parkMu.Unlock()
	if p != nil {
		close(p.resume)
	}
}

// holdIfParked is where a pump waits while parked.
func (pp *pumpedPipe) holdIfParked() {
	pp.parkMu.Lock()
	p := pp.parking
	pp.parkMu.Unlock()
	if p != nil {
		close(p.parked)
		<-p.resume
	}
}

// end records that the pump has returned, answering a park in progress.
func (pp *pumpedPipe) end() {
	pp.parkMu.Lock()
	defer pp.parkMu.Unlock()
	pp.ended = true
	if p := pp.parking; p != nil {
		pp.parking = nil
		p.gone = true
		close(p.parked)
	}
}

// pump copies the pipe to w until EOF (every writer of the pipe,
// grandchildren included, has closed it), then calls done. A failing w (a
// full disk) neither stops the draining, so the child never blocks on a full
// pipe, nor the copying: w reports its own errors, and once space is freed
// the output that follows is logged again.
func (pp *pumpedPipe) pump(w io.Writer, done func()) {
	defer done()
	defer pp.end()
	defer pp.r.Close()
	if w == nil {
		w = io.Discard
	}
	rc, err := pp.r.SyscallConn()
	if err != nil {
		return
	}
	eof, grown := false, false
	defer func() {
		if grown {
			grownPipes.Add(-1)
		}
	}()
	for !eof {
		// The runtime poller calls drain again each time the pipe turns
		// readable; between calls the goroutine parks holding no buffer.
		err := rc.Read(func(fd uintptr) bool {
			var full bool
			eof, full = drain(int(fd), w, pp.childExited.Load())
			if full && !grown {
				grown = growPipe(int(fd))
			}
			return eof
		})
		switch {
		case errors.Is(err, os.ErrDeadlineExceeded):
			pp.r.SetReadDeadline(time.Time{}) // the exit nudge (childGone) or a park: drain again
			pp.holdIfParked()
		case err != nil:
			return
		}
	}
}

// childGone tells the pump that the child has exited, and wakes it to look
// once more: the child's last output and its closing of the pipe may have
// come in one readiness event, which the pump, edge-triggered, will not see
// again (see drain).
func (pp *pumpedPipe) childGone() {
	pp.childExited.Store(true)
	pp.r.SetReadDeadline(time.Now()) // fails harmlessly once the pump has closed r
}

// drain copies what the pipe fd holds to w and reports whether it reached
// EOF (or a read error: the pipe is then unusable). A short read emptied the
// pipe, and drain returns to wait for the next write: reading on until
// EAGAIN would cost one more system call per wake-up, and with a writer
// that floods the pipe, many small reads and log writes instead of a few
// large ones (a 2 GiB burst ran at 51 % instead of 63 % of the writer's
// speed into a file). But the poller is edge-triggered, so a close of the
// pipe that came in the same readiness event as the last data would not be
// seen. While the child lives, its exit wakes the pump (childGone) to read
// on; once it has exited (childExited), the writers left are its
// descendants, and after each short read drain asks the pipe whether they
// are gone (writersGone) before it waits.
func drain(fd int, w io.Writer, childExited bool) (eof, full bool) {
	buf := pumpBufs.Get().(*[pumpBufSize]byte)
	defer pumpBufs.Put(buf)
	for {
		n, err := syscall.Read(fd, buf[:])
		switch {
		case n > 0:
			w.Write(buf[:n])
			full = full || n >= defaultPipeSize
			if n < len(buf) && !(childExited && writersGone(fd)) {
				return false, full
			}
		case err == syscall.EINTR:
		case err == syscall.EAGAIN:
			return false, full
		default: // n == 0: EOF
			return true, full
		}
	}
}

// writersGone reports whether every writer of the pipe fd has closed it
// (poll's POLLHUP); on a poll error it says yes, so that the caller reads on
// and the read tells.
func writersGone(fd int) bool {
	pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	for {
		_, err := unix.Poll(pfd, 0)
		if err != unix.EINTR {
			return err != nil || pfd[0].Revents&unix.POLLHUP != 0
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
