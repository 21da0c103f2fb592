package proctree

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"syscall"
	"time"
)

// maxKeptFDs bounds the stat files a scanner keeps open. Each costs a
// descriptor and about a page of kernel memory (the file's read buffer);
// processes past the bound are read with open, read and close each time.
const maxKeptFDs = 2048

// Between full listings of procfs a scanner lists only the pids allocated
// since its last listing, and relistPIDs before them (a pid is allocated a
// moment before its process shows in /proc). A listing is full at a pid
// wrap-around; when the last listing is more than partialListingGap old
// (pids could have wrapped around and passed the last one again unseen:
// at Linux's smallest default pid_max, 32,768, that takes 546 forks a
// second for a minute); at least every fullListingEvery and when the
// processes it remembers have doubled, to forget those that exited outside
// the tree and to find any process given a pid below the last one (clone3
// with set_tid, as checkpoint-restore tools do).
const (
	relistPIDs        = 64
	partialListingGap = time.Minute
	fullListingEvery  = 5 * time.Minute
	partialDents      = 4096 // bytes of entries a partial listing asks for at once
)

// scanner reads the processes of one tree, those descended from root (the
// daemon), and root itself. Reading /proc/<pid>/stat costs far less
// through a descriptor kept open (pread) than through open, read and close
// (about 5 against 17 µs of CPU on the benchmark's VM). A process not in
// the tree when first seen never enters it (reparenting moves a process
// only to an ancestor), so it is read once and never again. New processes
// are found by listing procfs: Linux gives pids in increasing order until
// they wrap around, and lists /proc in pid order from any position, so
// most readings list only the pids allocated since the last one
// (ns_last_pid says which), not the whole machine.
type scanner struct {
	procfs string
	root   int
	page   int64
	budget int // descriptors it may keep open
	kept   int // descriptors open now

	dir     int    // procfs, open for listing; -1 until first used
	lastPID int    // procfs's sys/kernel/ns_last_pid, open; -1: none, every listing is full
	dents   []byte // listing buffer
	buf     []byte // one stat file
	procs   map[int]*tracked
	round   uint64 // the reading's number

	// base is the listing position of pid 0: pid p's entry is at p+base
	// (Linux's TGID_OFFSET); -1 until a full listing has shown it.
	base      int64
	listedTo  int       // ns_last_pid when the last listing began
	listedAt  time.Time // when it ended
	fullAt    time.Time // the last full listing
	fullCount int       // processes remembered after it

	member   map[int]bool // per reading: whether a pid is in the tree
	treeSize int          // processes in the tree at the last reading
}

// tracked is one process listed under procfs.
type tracked struct {
	ino     uint64 // of its /proc/<pid> directory: a new process under an old pid has another
	outside bool   // not in the tree: never read again
	fd      int    // its stat file kept open, or -1
	seen    uint64 // the last round whose listing showed it
	read    uint64 // the last round that read it
	entry   Entry
}

func newScanner(procfs string, root int) *scanner {
	budget := maxKeptFDs
	var lim syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) == nil {
		// Leave the descriptors to the programs' pipes and logs.
		budget = min(budget, int(lim.Cur/8))
	}
	return &scanner{procfs: procfs, root: root, budget: budget, dir: -1, lastPID: -1, base: -1,
		dents: make([]byte, 32<<10), buf: make([]byte, 4096), page: int64(syscall.Getpagesize()),
		procs: map[int]*tracked{}, member: map[int]bool{}}
}

// read returns the entries of root and of every process in its tree.
func (s *scanner) read() (Table, error) {
	s.round++
	if err := s.open(); err != nil {
		return nil, err
	}
	last, ok := s.readLastPID()
	full := !ok || s.base < 0 || last < s.listedTo || time.Since(s.listedAt) > partialListingGap ||
		time.Since(s.fullAt) >= fullListingEvery || len(s.procs) > 2*s.fullCount+1024
	from := 0
	if !full {
		from = max(s.listedTo-relistPIDs, 1)
	}
	if err := s.list(from, last); err != nil {
		return nil, err
	}
	s.listedTo, s.listedAt = last, time.Now()
	if full {
		for pid, p := range s.procs {
			if p.seen != s.round {
				s.drop(pid, p)
			}
		}
		s.fullAt, s.fullCount = time.Now(), len(s.procs)
	} else {
		for pid, p := range s.procs {
			if !p.outside && p.read != s.round {
				s.readStat(pid, p)
			}
		}
	}
	clear(s.member)
	t := make(Table, s.treeSize) // sized as the last, so as not to grow
	for pid, p := range s.procs {
		if p.outside {
			continue
		}
		if !s.inTree(pid) {
			p.outside = true
			s.closeFD(p)
			continue
		}
		if p.fd < 0 {
			s.keep(pid, p)
		}
		t[pid] = p.entry
	}
	s.treeSize = len(t)
	return t, nil
}

// open opens procfs for listing, and its ns_last_pid if it has one.
func (s *scanner) open() error {
	if s.dir >= 0 {
		return nil
	}
	fd, err := syscall.Open(s.procfs, syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("read process table: %w", err)
	}
	s.dir = fd
	if fd, err := syscall.Open(s.procfs+"/sys/kernel/ns_last_pid", syscall.O_RDONLY|syscall.O_CLOEXEC, 0); err == nil {
		s.lastPID = fd
	}
	return nil
}

// readLastPID reads the last pid Linux allocated.
func (s *scanner) readLastPID() (int, bool) {
	if s.lastPID < 0 {
		return 0, false
	}
	data, ok := readAt(s.lastPID, s.buf)
	if !ok {
		return 0, false
	}
	v, rest := nextField(data)
	n, ok := atoi(v)
	if !ok || len(rest) > 1 {
		return 0, false
	}
	return int(n), true
}

// list lists procfs from pid from to pid upTo (from 0: everything, and
// learns base) and reads the stat of each process new to it. Past upTo
// come only processes older than the last wrap-around, and those forked
// since ns_last_pid was read, which the next listing covers: a partial
// listing reads a few entries at a time and stops there.
func (s *scanner) list(from, upTo int) error {
	pos := int64(0)
	dents := s.dents
	if from > 0 {
		pos = int64(from) + s.base
		dents = dents[:partialDents]
	}
	if _, err := syscall.Seek(s.dir, pos, 0); err != nil {
		return fmt.Errorf("read process table: %w", err)
	}
	if from == 0 {
		s.base = -1
	}
	consistent := true
	for past := false; !past; {
		// Only entries of one batch are compared: the next batch starts
		// where the last entry's position points only if that process
		// still exists.
		var prevPID int
		var prevNext int64
		n, err := syscall.Getdents(s.dir, dents)
		if err != nil {
			return fmt.Errorf("read process table: %w", err)
		}
		if n <= 0 {
			break
		}
		for b := dents[:n]; len(b) >= 19; {
			// struct linux_dirent64: ino, off (the next entry's position),
			// reclen, type, name.
			ino := binary.NativeEndian.Uint64(b)
			next := int64(binary.NativeEndian.Uint64(b[8:]))
			size := int(binary.NativeEndian.Uint16(b[16:]))
			if size < 19 || size > len(b) {
				return errors.New("read process table: malformed directory entry")
			}
			pid := atoiName(b[19:size])
			if from > 0 && pid > upTo {
				past = true
				break
			}
			if pid > 0 {
				if from == 0 && prevPID > 0 {
					if base := prevNext - int64(pid); s.base < 0 {
						s.base = base
					} else if base != s.base {
						consistent = false
					}
				}
				s.visit(pid, ino)
			}
			prevPID, prevNext = pid, next
			b = b[size:]
		}
	}
	if !consistent {
		s.base = -1 // not Linux's /proc: every listing stays full
	}
	return nil
}

// visit notes that the listing showed pid, and reads its stat if it is
// new.
func (s *scanner) visit(pid int, ino uint64) {
	p := s.procs[pid]
	if p != nil && p.ino != ino {
		s.drop(pid, p)
		p = nil
	}
	if p == nil {
		p = &tracked{ino: ino, fd: -1}
		s.procs[pid] = p
	}
	p.seen = s.round
	if !p.outside {
		s.readStat(pid, p)
	}
}

// readStat reads pid's stat, forgetting pid if that fails: a kept
// descriptor answers ESRCH once its process has exited, even if the pid
// was used again.
func (s *scanner) readStat(pid int, p *tracked) {
	var data []byte
	ok := false
	if p.fd >= 0 {
		data, ok = readAt(p.fd, s.buf)
	} else {
		data, ok = readSmall(s.statPath(pid), s.buf)
	}
	if ok {
		p.entry, ok = parseStat(data, s.page)
	}
	if !ok {
		s.drop(pid, p)
		return
	}
	p.read = s.round
}

// inTree reports whether pid is root or descends from it, following the
// parents read in this round.
func (s *scanner) inTree(pid int) bool {
	var chain []int
	in := false
	for p := pid; ; {
		if p == s.root {
			in = true
			break
		}
		if known, ok := s.member[p]; ok {
			in = known
			break
		}
		t := s.procs[p]
		if t == nil || t.outside {
			break
		}
		s.member[p] = false // a loop (pids reused while listing) ends here
		chain = append(chain, p)
		p = t.entry.PPID
	}
	for _, p := range chain {
		s.member[p] = in
	}
	return in
}

// keep opens pid's stat file for the next readings, within the budget.
func (s *scanner) keep(pid int, p *tracked) {
	if s.kept >= s.budget {
		return
	}
	fd, err := syscall.Open(s.statPath(pid), syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return
	}
	p.fd = fd
	s.kept++
}

func (s *scanner) statPath(pid int) string {
	return s.procfs + "/" + strconv.Itoa(pid) + "/stat"
}

func (s *scanner) drop(pid int, p *tracked) {
	s.closeFD(p)
	delete(s.procs, pid)
}

func (s *scanner) closeFD(p *tracked) {
	if p.fd >= 0 {
		syscall.Close(p.fd)
		p.fd = -1
		s.kept--
	}
}

// close closes every descriptor it holds.
func (s *scanner) close() {
	for pid, p := range s.procs {
		s.drop(pid, p)
	}
	for _, fd := range []*int{&s.dir, &s.lastPID} {
		if *fd >= 0 {
			syscall.Close(*fd)
			*fd = -1
		}
	}
}

// readAt reads a kept file from its start.
func readAt(fd int, buf []byte) ([]byte, bool) {
	n, err := syscall.Pread(fd, buf, 0)
	if err != nil || n <= 0 || n == len(buf) {
		return nil, false
	}
	return buf[:n], true
}

// atoiName parses a directory name that is a pid, ending at its NUL; 0
// for any other name.
func atoiName(b []byte) int {
	n := 0
	for i, c := range b {
		switch {
		case c == 0 && i > 0:
			return n
		case c < '0' || c > '9' || n > 1<<30:
			return 0
		}
		n = n*10 + int(c-'0')
	}
	return n
}
