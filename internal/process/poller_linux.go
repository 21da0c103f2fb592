package process

import (
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/drover/drover/internal/guard"
)

// A few pollers (numPollers), each a level-triggered epoll set, watch
// every child's output pipes (pump_linux.go) and its pidfd (NotifyExit),
// instead of a goroutine each: with 500 programs that was 1,500 parked
// goroutines and their stacks. A descriptor belongs to one poller from
// watch until it is finished.
//
// One driver goroutine serves all the pollers (driver_linux.go): it
// waits in epoll_wait on a set of the pollers' sets, and serves each ready
// poller in turn, writing to the sinks of its pipes itself. So a sink that
// blocks (a log on a FIFO nobody reads) holds up the driver; a watchdog
// then takes that poller out of the driver's set and starts a new driver
// for the others, and the held-up one leaves once its write returns.
// Python's supervisord, one loop for everything, stops altogether in that
// case.
const numPollers = 4

// polled is a descriptor a poller watches.
type polled interface {
	pollFD() int
	// ready handles the descriptor's readiness with buf as scratch space,
	// and reports how many bytes it read and whether it is finished with;
	// finish is then called, once the descriptor has left the poller.
	ready(buf []byte) (n int, finished bool)
	finish()
	panicName() string // names it in the report of a panic
}

// pumpBufs holds the read buffers of the pollers. A poller borrows one
// for each wake-up only, so idle pollers hold no memory.
var pumpBufs = sync.Pool{New: func() any { return new([pumpBufSize]byte) }}

// poller watches the descriptors of its epoll set.
type poller struct {
	epfd  int
	index int // in pollers, carried by the driver's epoll events
	mu    sync.Mutex
	watch map[int32]polled // by descriptor: the epoll events carry it
	// serving is held by the driver serving the poller; it owns what
	// follows.
	serving sync.Mutex
	events  [maxEvents]unix.EpollEvent
	batch   []polled
	// heldUp: out of the driver's set, its driver held up by a sink
	// (under drv.mu).
	heldUp bool
}

var (
	pollersOnce sync.Once
	pollers     []*poller // nil if epoll is not to be had
	nextPoller  atomic.Uint32
)

// watch gives x to a poller, the pollers in turn, and reports whether
// one took it.
func watch(x polled) bool {
	p := nextPollerInTurn()
	return p != nil && p.add(x)
}

// nextPollerInTurn returns the pollers in turn, starting them on first
// use; nil if epoll is not to be had.
func nextPollerInTurn() *poller {
	pollersOnce.Do(startPollers)
	if len(pollers) == 0 {
		return nil
	}
	return pollers[nextPoller.Add(1)%uint32(len(pollers))]
}

// add puts x in the poller's set, and reports whether it took it.
func (p *poller) add(x polled) bool {
	fd := x.pollFD()
	p.mu.Lock()
	p.watch[int32(fd)] = x
	p.mu.Unlock()
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(fd)}
	if err := unix.EpollCtl(p.epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
		p.mu.Lock()
		delete(p.watch, int32(fd))
		p.mu.Unlock()
		return false
	}
	return true
}

// maxEvents bounds the descriptors served per wake-up; more ready ones are
// reported again by the next wait.
const maxEvents = 128

// serve takes the poller's ready descriptors and serves each once: for a
// pipe, a batch of whatever the child wrote meanwhile, in one read and one
// write. It reports whether it read anything, and whether any read was
// large. A panic in a descriptor's handling ends only that descriptor (a
// pipe is closed, and the child, on its next write, dies of SIGPIPE).
func (p *poller) serve() (read, busy bool) {
	n, err := unix.EpollWait(p.epfd, p.events[:], 0)
	if err != nil || n <= 0 {
		return false, false // EINTR, or taken by a forget since the driver's wait
	}
	p.batch = p.batch[:0]
	p.mu.Lock()
	for _, ev := range p.events[:n] {
		if x := p.watch[ev.Fd]; x != nil {
			p.batch = append(p.batch, x)
		}
	}
	p.mu.Unlock()
	buf := pumpBufs.Get().(*[pumpBufSize]byte)
	defer pumpBufs.Put(buf)
	for _, x := range p.batch {
		n, finished := 0, true
		guard.Run(x.panicName(), func() { n, finished = x.ready(buf[:]) })
		read, busy = read || n > 0, busy || n >= gatherBelow
		if finished {
			p.remove(x)
		}
	}
	return read, busy
}

// gatherPause is how long the driver lets output gather after a wake-up whose
// reads were all small (under gatherBelow): chatty children writing line
// by line then cost one read and one log write per pause instead of one
// per line (100 programs × 1,000 lines/s: see docs/benchmark.md), at the
// price of at most this much delay for a line. A pipe with more to give (a
// burst, a flood) gets no pause, which would leave its writer blocked on a
// full pipe; nor does a wake-up that only saw exits or ends of file.
const (
	gatherPause = 2 * time.Millisecond
	gatherBelow = 4 << 10
)

// remove takes x out of the set before finishing it: finish may close
// the descriptor, whose number a new one may then take.
func (p *poller) remove(x polled) {
	p.forget(x.pollFD())
	guard.Run(x.panicName(), x.finish)
}

// forget takes fd out of the set; a wake-up that gathered it already may
// still call its ready once.
func (p *poller) forget(fd int) {
	unix.EpollCtl(p.epfd, unix.EPOLL_CTL_DEL, fd, nil)
	p.mu.Lock()
	delete(p.watch, int32(fd))
	p.mu.Unlock()
}

// A child is the watch of its own pidfd.

func (c *child) pollFD() int       { return int(c.pidfd) }
func (c *child) panicName() string { return "waiter of program " + c.name }

// ready: a pidfd turns readable once its process has exited.
func (c *child) ready([]byte) (int, bool) { return 0, true }

// finish reaps the child (Wait returns at once now) and reports its exit,
// also if Wait panics.
func (c *child) finish() {
	es := ExitStatus{Code: -1}
	defer func() { c.onExit(es) }()
	es = c.Wait()
}

// NotifyExit arranges for onExit to be called with the child's exit
// status once it has exited and been reaped, by a poller: no goroutine
// waits for it. It reports false, having arranged nothing, if the child
// has no pidfd or no poller took it; the caller then waits with Wait.
// onExit must not block.
func (c *child) NotifyExit(name string, onExit func(ExitStatus)) bool {
	if c.pidfd < 0 {
		return false
	}
	c.name, c.onExit = name, onExit
	return watch(c)
}
