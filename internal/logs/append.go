package logs

import (
	"fmt"
	"time"
)

// The output path may write a child's output into its log itself, with
// the writes of other logs in one io_uring_enter (internal/process): it
// asks BeginAppend for the descriptor, writes, and reports to EndAppend.
// Only a plain append is handed out: what needs the log's own Write (a
// rotation, ANSI stripping, a file to open or create, an error episode of
// rotation) goes through Write.

// BeginAppend locks the log for an append of n bytes written by the
// caller to fd, and reports ok, if the log is an open regular file, not
// stripped, that n bytes leave under maxbytes (no rotation due), with no
// rotation failing. Else, or if the log is busy (another pipe of the same
// batch holds it), ok is false and the log is left alone: use Write.
func (l *ChildLog) BeginAppend(n int) (fd int, ok bool) {
	if !l.mu.TryLock() {
		return -1, false
	}
	r := l.file
	switch {
	case l.done, l.cfg.StripANSI, r == nil, r.f == nil, !r.regular, r.rotateErr != nil,
		r.maxBytes > 0 && r.size+int64(n) >= r.maxBytes:
		l.mu.Unlock()
		return -1, false
	}
	return r.fd, true
}

// EndAppend records an append begun by BeginAppend: written bytes, and
// the error that cut it short (nil if none); then unlocks the log. As
// with Write, the bytes of a failed write are dropped.
func (l *ChildLog) EndAppend(written int, err error) {
	defer l.mu.Unlock()
	l.file.size += int64(written)
	l.lastUse = time.Now()
	if err != nil {
		err = fmt.Errorf("write log %s: %w", l.file.path, err)
	}
	l.setErr(err)
}
