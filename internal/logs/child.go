package logs

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// ChildConfig describes one output channel's log file.
type ChildConfig struct {
	Path      string
	MaxBytes  int64    // rotate when the file reaches this size; 0 = never
	Backups   int      // rotated copies kept (path.1 … path.N); 0 = truncate
	StripANSI bool     // remove ESC[ … terminator sequences (strip_ansi)
	Creation  Creation // when the file is created
	// OnError, if set, is called (under the log's lock, so it must not
	// call back into this ChildLog) when a write or rotation fails after
	// the previous one succeeded, so a failing disk is reported once per
	// episode instead of once per write.
	OnError func(err error)
	// Idle closes the file once idle; logs sharing one share its timer.
	// nil: a closer of its own.
	Idle *IdleCloser
}

// Creation says when a ChildLog creates its file.
type Creation uint8

const (
	// CreateAtOpen: OpenChild creates it.
	CreateAtOpen Creation = iota
	// CreateAtSpawn: the first Create (a spawn) or Write does. Supervisor
	// creates a log named by path when it first spawns the process, so
	// until then reading it is NO_FILE.
	CreateAtSpawn
	// CreateAuto is for an AUTO log (named by AutoName): the first Ensure
	// or Write creates it, never Create. With Supervisor an AUTO file
	// exists from the start, which Ensure (called by the supervisor soon
	// after the start, and by every reader first) stands in for, while the
	// spawns go first: on ext4 creating a file can cost a millisecond of
	// kernel time. Like mkstemp it creates the file with O_EXCL and mode
	// 0600; if the name exists anyway (a random collision, or the file of
	// a previous run kept by nocleanup or handed over by an upgrade), it
	// appends to that file instead of failing.
	CreateAuto
)

// ChildLog is one output channel's log file. It is an io.Writer safe for
// concurrent writers: processes that share a path must share one ChildLog so
// that rotation happens once. Special targets (/dev/stdout, FIFOs, ttys,
// /dev/null) are written to but never rotated, truncated or deleted.
//
// A regular file is held open only while it is written to: it is closed
// once idle for idleClose and opened again by name for the next output,
// so that stopped and quiet programs hold no descriptor (a low `ulimit -n`
// is then left for the children's pipes). Special targets stay open.
type ChildLog struct {
	mu    sync.Mutex
	cfg   ChildConfig
	file  *rotatingFile // nil until the file is created (Creation)
	strip ansiStripper
	err   error // last write or rotation error; nil after a success
	done  bool  // Close was called
	// lastUse is when the file was last opened or written; cfg.Idle
	// closes it idleClose after that.
	lastUse time.Time
	idleAt  int  // index in cfg.Idle's open logs; guarded by cfg.Idle's lock, since another log's forget moves it
	watched bool // in cfg.Idle's open logs; guarded by mu, changed only by this log's watch and forget
	// noSplice is set once splicing into the file failed for good (a file
	// system without splice; the descriptor without O_APPEND could not be
	// opened, as without /proc): Write does it all then.
	noSplice bool
}

// idleClose is how long a regular log file stays open after its last write.
const idleClose = 2 * time.Second

// OpenChild creates the log file with CreateAtOpen (and closes it until
// there is output); otherwise it only remembers it.
func OpenChild(c ChildConfig) (*ChildLog, error) {
	if c.Idle == nil {
		c.Idle = NewIdleCloser()
	}
	l := &ChildLog{cfg: c}
	if c.Creation != CreateAtOpen {
		return l, nil
	}
	if err := l.createIdle(); err != nil {
		return nil, err
	}
	return l, nil
}

// Create is called at each spawn, when Supervisor opens a process's logs
// by name: it creates a CreateAtSpawn log's file (not a CreateAuto one:
// that is Ensure's, off the spawn path), and reopens a regular file whose
// name no longer points at the open one (removed or renamed while the
// process was down). A failure is reported like a failed write (Err,
// OnError).
func (l *ChildLog) Create() {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.done:
	case l.file == nil:
		if l.cfg.Creation != CreateAuto {
			l.setErr(l.create())
		}
	case l.file.f == nil:
		l.setErr(l.open())
	case l.file.regular && !l.file.namesOpenFile():
		l.setErr(l.file.reopen())
	}
}

// Ensure creates a CreateAuto log's file if it was not created yet, and
// leaves it closed until there is output: readers call it first, so that
// an AUTO log is never missing (it is empty), and so does the supervisor
// soon after the start. Other logs, and a closed one, are left as they
// are. A failure is reported like a failed write (Err, OnError).
func (l *ChildLog) Ensure() {
	l.mu.Lock()
	defer l.mu.Unlock()
	// Only a creation attempt reports: a reader's Ensure of a file that
	// exists must not end an episode of failing writes (Err, OnError).
	if l.autoPending() {
		l.setErr(l.createIdle())
	}
}

// autoPending reports an AUTO log whose file is still to be created.
func (l *ChildLog) autoPending() bool {
	return !l.done && l.file == nil && l.cfg.Creation == CreateAuto
}

// createIdle creates the file and closes it until there is output.
func (l *ChildLog) createIdle() error {
	if err := l.create(); err != nil {
		return err
	}
	if l.file.regular {
		l.closeFile()
	}
	return nil
}

func (l *ChildLog) create() error {
	file, err := openRotating(l.cfg.Path, l.cfg.MaxBytes, l.cfg.Backups, l.cfg.Creation == CreateAuto)
	if err != nil {
		return err
	}
	file.split = true
	l.file = file
	l.used()
	return nil
}

// open opens the idle-closed file again by name.
func (l *ChildLog) open() error {
	if err := l.file.open(0); err != nil {
		return fmt.Errorf("open log %s: %w", l.cfg.Path, err)
	}
	l.used()
	return nil
}

// used notes the opening of the file and hands a regular one to the idle
// closer. Writes only update lastUse: the closer looks at it (closeIdle).
func (l *ChildLog) used() {
	l.lastUse = time.Now()
	if l.file.regular && !l.watched {
		l.cfg.Idle.watch(l)
	}
}

// closeIdle closes the file if it was not used for idleClose, else
// returns how long until it will have been.
func (l *ChildLog) closeIdle() (wait time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.watched {
		return 0 // closed meanwhile
	}
	if wait := time.Until(l.lastUse.Add(idleClose)); wait > 0 {
		return wait
	}
	l.closeFile()
	return 0
}

// closeFile closes the open regular file until the next output.
func (l *ChildLog) closeFile() {
	l.cfg.Idle.forget(l)
	if rest := l.strip.flush(); len(rest) > 0 {
		l.file.write(rest)
	}
	l.file.close()
}

// Write writes p (ANSI-stripped if configured) and rotates afterwards when
// the file reached MaxBytes. Errors (disk full, failed rotation) are returned
// and remembered in Err; a failed rotation still returns len(p) since the
// bytes were written. The bytes of a failed write are dropped, never retried
// or buffered.
func (l *ChildLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	data := p
	if l.cfg.StripANSI {
		data = l.strip.strip(p)
	}
	var n int
	var err error
	switch {
	case l.done:
		err = errClosed
	case l.file == nil:
		err = l.create()
	case l.file.f == nil:
		err = l.open()
	}
	if err == nil && len(data) > 0 {
		n, err = l.file.write(data)
		l.lastUse = time.Now()
	}
	l.setErr(err)
	switch {
	case n == len(data):
		// Everything was written; err, if any, is a failed rotation.
		return len(p), err
	case l.cfg.StripANSI:
		return 0, err // a partial count of stripped bytes means nothing for p
	}
	return n, err
}

// SpliceFrom moves up to max bytes from the non-blocking pipe fd into the
// log with splice(2), which saves the daemon a copy of every byte (see
// rotatingFile.splice), when that is safe: a regular file open now,
// without strip_ansi (the bytes must be seen), outside an error episode
// (a failed write or rotation: Write reports and recovers it). handled is
// false when no byte moved, for whatever reason: the caller then reads the
// pipe and calls Write, so nothing is lost or written twice. err is a
// failed rotation after the bytes moved, as Write returns it.
func (l *ChildLog) SpliceFrom(fd, max int) (n int64, handled bool, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.done || l.noSplice || l.cfg.StripANSI || l.err != nil || l.file == nil || l.file.f == nil || !l.file.regular {
		return 0, false, nil
	}
	n, err = l.file.splice(fd, max)
	if n == 0 {
		// Refused outright: unsupported here for good. Anything else (an
		// empty pipe, a full disk) is for the read and Write to meet.
		var pe *fs.PathError
		if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EOPNOTSUPP) || errors.As(err, &pe) {
			l.noSplice = true
		}
		return 0, false, nil
	}
	l.lastUse = time.Now()
	l.setErr(err)
	return n, true, err
}

func (l *ChildLog) setErr(err error) {
	if err != nil && l.err == nil && l.cfg.OnError != nil {
		l.cfg.OnError(err)
	}
	l.err = err
}

// Err returns the error of the last write, or nil if it succeeded.
func (l *ChildLog) Err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}

// Path returns the configured file name.
func (l *ChildLog) Path() string { return l.cfg.Path }

// Reopen closes the file and opens it again by name (SIGUSR2). If opening
// fails the old handle stays in use.
func (l *ChildLog) Reopen() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.done:
		return errClosed
	case l.file == nil || l.file.f == nil:
		return nil // not created yet, or idle: the next write opens it by name
	}
	return l.file.reopen()
}

// Clear deletes the file and reopens it empty (clearProcessLogs). Special
// targets are left untouched.
func (l *ChildLog) Clear() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.done {
		return errClosed
	}
	if l.autoPending() {
		if err := l.createIdle(); err != nil {
			return err
		}
	}
	switch {
	case l.file == nil:
		return nil // not created yet: nothing to clear
	case l.file.f == nil:
		if err := l.open(); err != nil {
			return err
		}
	}
	return l.file.clear()
}

// Close writes any held-back partial escape byte and closes the file.
// Writes after Close fail.
func (l *ChildLog) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.done {
		return nil
	}
	l.done = true
	if l.watched {
		l.cfg.Idle.forget(l)
	}
	if l.file == nil || l.file.f == nil {
		return nil
	}
	if rest := l.strip.flush(); len(rest) > 0 {
		l.file.write(rest) // best effort: the file is going away
	}
	return l.file.close()
}

// ansiTerminators end an escape sequence (Supervisor's ANSI_TERMINATORS).
const ansiTerminators = "HfABCDRsuJKhlpm"

// maxEscapeLen bounds an unterminated escape: binary output containing
// ESC[ must not swallow the rest of the stream.
const maxEscapeLen = 64

// ansiStripper removes ESC[ … terminator sequences, also when a sequence is
// split across writes.
type ansiStripper struct {
	state  int // stripText, stripEsc (ESC held back), stripSeq (inside ESC[)
	seqLen int
}

const (
	stripText = iota
	stripEsc
	stripSeq
)

func (s *ansiStripper) strip(p []byte) []byte {
	out := make([]byte, 0, len(p)+1)
	for _, b := range p {
		switch s.state {
		case stripEsc:
			if b == '[' {
				s.state, s.seqLen = stripSeq, 0
				continue
			}
			out = append(out, 0x1b)
			s.state = stripText
		case stripSeq:
			s.seqLen++
			if strings.IndexByte(ansiTerminators, b) >= 0 || s.seqLen >= maxEscapeLen {
				s.state = stripText
			}
			continue
		}
		if b == 0x1b {
			s.state = stripEsc
			continue
		}
		out = append(out, b)
	}
	return out
}

// flush returns a held-back ESC that no '[' followed.
func (s *ansiStripper) flush() []byte {
	if s.state == stripEsc {
		s.state = stripText
		return []byte{0x1b}
	}
	return nil
}
