package process

import (
	"errors"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// On this project's VM a system call costs about 1 µs of CPU before it
// does anything (a bare getppid), as much as a pipe read of a line: with
// 100 chatty programs the daemon made 10,000 reads and 10,000 log writes
// a second, one of each per burst of each program. So when io_uring is to
// be had (outputRing), a poller's ready pipes are read in one
// io_uring_enter, and what they gave is appended to the logs that allow
// it (logs.ChildLog.BeginAppend) in another; the rest is written with
// Write as before. Every pipe's read is written out before its next read,
// so a stream keeps its order.
//
// io_uring may be missing (an old kernel), disabled
// (kernel.io_uring_disabled), or refused (Docker's default seccomp
// profile): the pollers then read each pipe with read(2) and write it with
// the sink's Write, as they always do for a grown (flooded) pipe, which
// wants its whole 1 MiB buffer. The choice is made once, when the pollers
// start; DROVER_IO_URING=off makes it too (tests cover both paths with it).

// ringSlots is how many reads go in one io_uring_enter, each into its own
// ringSlotSize slot of the ring's arena: a whole default pipe.
const (
	ringSlots    = 16
	ringSlotSize = defaultPipeSize
)

// io_uring's ABI (include/uapi/linux/io_uring.h).
const (
	ringOpRead         = 22 // IORING_OP_READ
	ringOpWrite        = 23 // IORING_OP_WRITE
	ringEnterGetEvents = 1  // IORING_ENTER_GETEVENTS
	ringFeatSingleMmap = 1  // IORING_FEAT_SINGLE_MMAP
	ringOffSQEs        = 0x10000000
	ringSQESize        = 64
	ringCQESize        = 16
	ringEntries        = 2 * ringSlots
)

type ringSQOffsets struct {
	head, tail, mask, entries, flags, dropped, array, resv1 uint32
	userAddr                                                uint64
}

type ringCQOffsets struct {
	head, tail, mask, entries, overflow, cqes, flags, resv1 uint32
	userAddr                                                uint64
}

type ringParams struct {
	sqEntries, cqEntries, flags, sqThreadCPU, sqThreadIdle, features, wqFD uint32
	resv                                                                   [3]uint32
	sq                                                                     ringSQOffsets
	cq                                                                     ringCQOffsets
}

type ringSQE struct {
	opcode, flags uint8
	ioprio        uint16
	fd            int32
	off, addr     uint64
	len, rwFlags  uint32
	userData      uint64
	pad           [3]uint64
}

type ringCQE struct {
	userData uint64
	res      int32
	flags    uint32
}

// outputRing reads up to ringSlots pipes into its arena in one system
// call, and writes what they gave in another. Its lock is held by the
// driver from the reads until what they read is written out (the arena
// is then free again); a second driver (the watchdog's) that finds it
// taken uses read(2) and Write.
type outputRing struct {
	mu                     sync.Mutex
	fd                     int
	rings, sqes, arena     []byte
	sqHead, sqTail, sqMask *uint32
	cqHead, cqTail, cqMask *uint32
	cqes                   uint32 // offset of the completions in rings
	broken                 bool   // the kernel failed it: never used again
}

// ring is the pollers' outputRing; nil if io_uring is not to be had.
var ring *outputRing

// newOutputRing sets up a ring, or explains why not.
func newOutputRing() (*outputRing, error) {
	if os.Getenv("DROVER_IO_URING") == "off" {
		return nil, errors.New("DROVER_IO_URING=off")
	}
	var p ringParams
	fd, _, errno := unix.Syscall(unix.SYS_IO_URING_SETUP, ringEntries, uintptr(unsafe.Pointer(&p)), 0)
	if errno != 0 {
		return nil, errno
	}
	r := &outputRing{fd: int(fd)}
	if err := r.mapRings(&p); err != nil {
		r.close()
		return nil, err
	}
	return r, nil
}

func (r *outputRing) mapRings(p *ringParams) error {
	if p.features&ringFeatSingleMmap == 0 {
		return errors.New("io_uring without IORING_FEAT_SINGLE_MMAP")
	}
	size := max(p.sq.array+4*p.sqEntries, p.cq.cqes+ringCQESize*p.cqEntries)
	var err error
	const shared = unix.PROT_READ | unix.PROT_WRITE
	if r.rings, err = unix.Mmap(r.fd, 0, int(size), shared, unix.MAP_SHARED|unix.MAP_POPULATE); err != nil {
		return err
	}
	if r.sqes, err = unix.Mmap(r.fd, ringOffSQEs, int(p.sqEntries)*ringSQESize, shared, unix.MAP_SHARED|unix.MAP_POPULATE); err != nil {
		return err
	}
	// Anonymous memory, not the heap: a page costs RSS only once a read
	// has filled it.
	if r.arena, err = unix.Mmap(-1, 0, ringSlots*ringSlotSize, shared, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS); err != nil {
		return err
	}
	word := func(off uint32) *uint32 { return (*uint32)(unsafe.Pointer(&r.rings[off])) }
	r.sqHead, r.sqTail, r.sqMask = word(p.sq.head), word(p.sq.tail), word(p.sq.mask)
	r.cqHead, r.cqTail, r.cqMask = word(p.cq.head), word(p.cq.tail), word(p.cq.mask)
	r.cqes = p.cq.cqes
	for i := range p.sqEntries { // submission i is always entry i
		*word(p.sq.array + 4*i) = i
	}
	return nil
}

func (r *outputRing) close() {
	for _, m := range [][]byte{r.rings, r.sqes, r.arena} {
		if m != nil {
			unix.Munmap(m)
		}
	}
	syscall.Close(r.fd)
}

// slot is the arena's i-th read buffer.
func (r *outputRing) slot(i int) []byte { return r.arena[i*ringSlotSize : (i+1)*ringSlotSize] }

// ringOp is one read or write for the ring: read at most len(buf)
// bytes from fd into buf, or write buf to fd.
type ringOp struct {
	write bool
	fd    int
	buf   []byte
}

// do runs ops, all in one io_uring_enter, and sets res[i] to what read(2)
// or write(2) would return for ops[i]: the count, or -errno. An op the
// kernel did not take leaves res[i] as the caller set it. With r.mu held;
// the buffers must stay put until it returns (the arena's do).
func (r *outputRing) do(ops []ringOp, res []int32) {
	if r.broken {
		return
	}
	tail := atomic.LoadUint32(r.sqTail)
	mask := atomic.LoadUint32(r.sqMask)
	for i, op := range ops {
		e := ringSQE{opcode: ringOpRead, fd: int32(op.fd), addr: uint64(uintptr(unsafe.Pointer(&op.buf[0]))),
			len: uint32(len(op.buf)), rwFlags: unix.RWF_NOWAIT, userData: uint64(i)}
		// A read never waits: io_uring would wait on an empty pipe for
		// data, O_NONBLOCK or not. A write to a regular file may: with
		// RWF_NOWAIT, ext4 refuses every buffered write. So it is done
		// inline, or by a kernel worker when it must wait (1 in 100 here).
		if op.write {
			e.opcode, e.off, e.rwFlags = ringOpWrite, ^uint64(0), 0 // at the file's position, as write(2)
		}
		*(*ringSQE)(unsafe.Pointer(&r.sqes[((tail+uint32(i))&mask)*ringSQESize])) = e
	}
	end := tail + uint32(len(ops))
	atomic.StoreUint32(r.sqTail, end)
	for done := 0; ; {
		unsent := end - atomic.LoadUint32(r.sqHead)
		submitted := len(ops) - int(unsent)
		done += r.reap(res)
		if done == submitted && unsent == 0 {
			return
		}
		_, _, errno := unix.Syscall6(unix.SYS_IO_URING_ENTER, uintptr(r.fd), uintptr(unsent),
			uintptr(submitted+int(unsent)-done), ringEnterGetEvents, 0, 0)
		switch errno {
		case 0, syscall.EINTR, syscall.EAGAIN, syscall.EBUSY:
			continue
		}
		// The kernel refuses the ring: take back what it did not take,
		// and use read(2) and write(2) from now on. (A read it took but
		// never completes would land in the arena, which is never used
		// again.)
		atomic.StoreUint32(r.sqTail, atomic.LoadUint32(r.sqHead))
		r.reap(res)
		r.broken = true
		return
	}
}

// reap sets res from the completions there are, and counts them.
func (r *outputRing) reap(res []int32) int {
	head, tail := atomic.LoadUint32(r.cqHead), atomic.LoadUint32(r.cqTail)
	mask := atomic.LoadUint32(r.cqMask)
	n := 0
	for ; head != tail; head++ {
		c := (*ringCQE)(unsafe.Pointer(&r.rings[r.cqes+(head&mask)*ringCQESize]))
		if c.userData < uint64(len(res)) {
			res[c.userData] = c.res
		}
		n++
	}
	atomic.StoreUint32(r.cqHead, head)
	return n
}
