package process

import (
	"runtime"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/drover/drover/internal/guard"
)

// The driver serves every poller from one goroutine that keeps its thread:
// it waits in epoll_wait and pauses in nanosleep, blocking system calls
// both, and yields once a round. Four poller goroutines each parking in
// time.Sleep and waking from epoll_wait kept the runtime busy around
// them: with more goroutines in blocking calls than Ps, the runtime's
// sysmon took Ps back from them every few tens of microseconds, and each
// pause let the daemon go idle, so that the next system call woke sysmon
// again. sysmon and the scheduler were about half of the daemon's CPU
// with 100 chatty programs (docs/benchmark.md).

// heldUpAfter is how long the driver may spend serving one poller before
// the watchdog counts it held up by a sink and starts another driver.
const heldUpAfter = 200 * time.Millisecond

// drv is the driver's state, under mu.
var drv struct {
	mu    sync.Mutex
	topfd int    // epoll set of the pollers' sets
	gen   uint64 // the current driver's generation; older ones leave
	// serving is the poller the current driver is serving, nil between
	// pollers; serves counts the servings it began, and watched is the
	// count the watchdog saw when it last looked.
	serving  *poller
	serves   uint64
	watched  uint64
	watchdog *time.Timer
	armed    bool
}

// startPollers makes the pollers and their driver; none if epoll is not
// to be had.
func startPollers() {
	top, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return
	}
	drv.topfd = top
	for i := range numPollers {
		epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
		if err != nil {
			break
		}
		p := &poller{epfd: epfd, index: i, watch: map[int32]polled{}}
		if p.toDriver() != nil {
			unix.Close(epfd)
			break
		}
		pollers = append(pollers, p)
	}
	if len(pollers) == 0 {
		return
	}
	drv.watchdog = time.AfterFunc(time.Hour, func() { guard.Run("output watchdog", watchdog) })
	drv.watchdog.Stop()
	go drive(0) // drive guards itself
}

// toDriver puts p's set in the driver's.
func (p *poller) toDriver() error {
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(p.index)}
	return unix.EpollCtl(drv.topfd, unix.EPOLL_CTL_ADD, p.epfd, &ev)
}

// drive serves the pollers for as long as it is the current driver; a
// panic (a bug) loses one round, not the driver.
func drive(gen uint64) {
	var events [numPollers]unix.EpollEvent
	for current := true; current; {
		guard.Run("output poller", func() { current = round(gen, events[:]) })
	}
}

// round waits for ready pollers and serves each once, then pauses if the
// reads were all small (gatherPause). It reports whether gen is still the
// current driver.
func round(gen uint64, events []unix.EpollEvent) bool {
	n, err := unix.EpollWait(drv.topfd, events, -1)
	if err != nil {
		n = 0 // EINTR
	}
	read, busy := false, false
	for _, ev := range events[:max(n, 0)] {
		p := pollers[ev.Fd]
		if !p.serving.TryLock() { // a held-up driver's, out of the set by now
			continue
		}
		r, b, current := serveAs(gen, p)
		if !current {
			return false
		}
		read, busy = read || r, busy || b
	}
	if read && !busy {
		ts := unix.NsecToTimespec(int64(gatherPause))
		unix.Nanosleep(&ts, nil)
	}
	// A goroutine that never parks looks to sysmon like one that runs
	// too long: it would take the P from it every 10 ms.
	runtime.Gosched()
	return true
}

// serveAs serves p, whose serving lock the caller holds, as driver gen,
// and releases it; current reports whether gen is still the current
// driver.
func serveAs(gen uint64, p *poller) (read, busy, current bool) {
	defer func() { current = servedAs(gen, p) }()
	defer p.serving.Unlock()
	if !beginServing(gen, p) {
		return false, false, false
	}
	read, busy = p.serve()
	return read, busy, true
}

// beginServing notes that driver gen serves p, for the watchdog, and
// reports whether gen is still the current driver.
func beginServing(gen uint64, p *poller) bool {
	drv.mu.Lock()
	defer drv.mu.Unlock()
	if gen != drv.gen {
		return false
	}
	drv.serving = p
	drv.serves++
	if !drv.armed {
		drv.armed = true
		drv.watchdog.Reset(heldUpAfter)
	}
	return true
}

// servedAs notes that driver gen is done with p: a poller taken from a
// held-up driver goes back in the set. It reports whether gen is still the
// current driver.
func servedAs(gen uint64, p *poller) bool {
	drv.mu.Lock()
	defer drv.mu.Unlock()
	if p.heldUp && p.toDriver() == nil {
		p.heldUp = false
	}
	if gen != drv.gen {
		return false
	}
	drv.serving = nil
	return true
}

// watchdog looks at the driver heldUpAfter after it began serving: still
// in the same serving a round later, it is held up by a sink. The poller it
// serves leaves the set, and a new driver serves the others.
func watchdog() {
	drv.mu.Lock()
	defer drv.mu.Unlock()
	drv.armed = false
	p := drv.serving
	switch {
	case p == nil:
		return // waiting or pausing: the next serving arms the watchdog again
	case drv.serves != drv.watched:
		drv.watched = drv.serves
		drv.armed = true
		drv.watchdog.Reset(heldUpAfter)
		return
	}
	unix.EpollCtl(drv.topfd, unix.EPOLL_CTL_DEL, p.epfd, nil)
	p.heldUp = true
	drv.gen++
	drv.serving = nil
	go drive(drv.gen)
}
