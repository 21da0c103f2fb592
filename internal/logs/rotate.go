package logs

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

var errClosed = errors.New("log file is closed")

// rotatingFile is a log file opened by name in append mode that rotates the
// way Supervisor's RotatingFileHandler does. It is not safe for concurrent
// use; its owners serialise access.
type rotatingFile struct {
	path     string
	maxBytes int64 // 0 or less: never rotate
	backups  int
	f        *os.File
	// regular is false for special targets (/dev/stdout, FIFOs, ttys,
	// /dev/null): those are never rotated, truncated or deleted.
	regular bool
	// size is the file's size as of the last open plus the bytes written
	// since, so that a write needs no fstat. Only when it reaches maxBytes
	// is the real size looked up (see rotateIfFull).
	size int64
	// split makes a write that would take the file past maxBytes fill it
	// to maxBytes exactly, rotate, and go on in the next file, so rotated
	// files never exceed maxBytes (child logs: a child's read can be 1 MiB;
	// the main log keeps its lines whole).
	split bool
	// rotateErr is the error of the last failed rotation, returned by
	// every write until a rotation succeeds: one episode, reported once.
	rotateErr error
	// spliceTo is a second descriptor of the open file, without O_APPEND,
	// which splice(2) refuses: opened at the first splice, closed with f.
	spliceTo *os.File
}

// openRotating opens path for appending, creating it if need be. With
// exclusive it first tries to create it as mkstemp does (O_EXCL, mode
// 0600), and appends to the file already there only if that fails.
func openRotating(path string, maxBytes int64, backups int, exclusive bool) (*rotatingFile, error) {
	r := &rotatingFile{path: path, maxBytes: maxBytes, backups: backups}
	var err error
	if exclusive {
		err = r.open(os.O_EXCL)
	}
	if !exclusive || errors.Is(err, fs.ErrExist) {
		err = r.open(0)
	}
	if err != nil {
		return nil, err
	}
	return r, nil
}

// open opens r.path for appending (plus extra flags) and replaces the current
// handle only on success, so a failed reopen keeps the old file working.
// With O_EXCL the new file is private (0600), as mkstemp makes AUTO logs.
func (r *rotatingFile) open(extra int) error {
	perm := fs.FileMode(0o666)
	if extra&os.O_EXCL != 0 {
		perm = 0o600
	}
	f, err := os.OpenFile(r.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND|extra, perm)
	if errors.Is(err, syscall.ENXIO) {
		f, err = dupInherited(r.path, err)
	}
	if err != nil {
		return err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	if r.f != nil {
		r.f.Close()
	}
	r.closeSpliceTo()
	r.f = f
	r.regular = st.Mode().IsRegular() && !isSpecialPath(r.path)
	r.size = st.Size()
	return nil
}

// inheritedFDs maps names of supervisord's own descriptors to their numbers.
var inheritedFDs = map[string]int{"/dev/stdout": 1, "/dev/stderr": 2}

// dupInherited duplicates the descriptor behind /dev/stdout, /dev/stderr,
// /dev/fd/N or /proc/self/fd/N when opening it by name failed with ENXIO, as
// it does when the descriptor is a socket (systemd's journal stream, some
// container runtimes). Other names return openErr.
func dupInherited(path string, openErr error) (*os.File, error) {
	p := filepath.Clean(path)
	fd, ok := inheritedFDs[p]
	if !ok {
		n, found := strings.CutPrefix(p, "/dev/fd/")
		if !found {
			n, found = strings.CutPrefix(p, "/proc/self/fd/")
		}
		var err error
		if fd, err = strconv.Atoi(n); !found || err != nil {
			return nil, openErr
		}
	}
	// ForkLock keeps the duplicate from leaking into a child spawned
	// before close-on-exec is set.
	syscall.ForkLock.RLock()
	dup, err := syscall.Dup(fd)
	if err == nil {
		syscall.CloseOnExec(dup)
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return nil, openErr
	}
	return os.NewFile(uintptr(dup), path), nil
}

// isSpecialPath reports names that must never be renamed or removed even
// when they resolve to a regular file (e.g. /dev/stdout redirected to a
// file): under /proc, and under /dev unless the name is a regular file
// itself. A log in a tmpfs such as /dev/shm rotates like any other; all of
// /dev was special, and such logs grew without bound.
func isSpecialPath(path string) bool {
	p := filepath.Clean(path)
	switch {
	case strings.HasPrefix(p, "/proc/"):
		return true
	case strings.HasPrefix(p, "/dev/"):
		st, err := os.Lstat(p)
		return err != nil || !st.Mode().IsRegular()
	}
	return false
}

// write writes p and rotates whenever the file reaches maxBytes. With split,
// p is cut where the file is full; once a rotation has failed the rest goes
// into the current file (better an oversized log than lost output).
func (r *rotatingFile) write(p []byte) (written int, err error) {
	if r.f == nil {
		return 0, errClosed
	}
	for {
		chunk := p
		if room := r.maxBytes - r.size; r.split && r.regular && err == nil && room > 0 && room < int64(len(p)) {
			chunk = p[:room]
		}
		n, werr := r.f.Write(chunk)
		r.size += int64(n)
		written += n
		if werr != nil {
			var pe *fs.PathError
			if errors.As(werr, &pe) {
				werr = pe.Err // the path is in our own text
			}
			return written, fmt.Errorf("write log %s: %w", r.path, werr)
		}
		if rerr := r.rotateIfFull(); rerr != nil {
			err = rerr
		}
		if p = p[n:]; len(p) == 0 {
			return written, err
		}
	}
}

// splice moves up to max bytes from the non-blocking pipe fd to the end
// of the regular file open now, with splice(2): the kernel copies them
// from the pipe's pages into the file's once, where read and write copy
// them twice. Then it rotates as write does, and like write with split it
// stops where the file is full, so rotated files never exceed maxBytes.
//
// The end is looked up before each splice (lseek), so bytes land where
// O_APPEND would put them: after a copytruncate, at the new end. What it
// cannot do is O_APPEND's atomicity: another process appending to the file
// between the lseek and the splice has its bytes overwritten (in the
// daemon, writers share the log's lock). An error means no byte moved
// (the kernel reports the bytes a splice moved, if any, and leaves the
// rest in the pipe); n is 0 also when the pipe is empty or at its end.
func (r *rotatingFile) splice(pipe, max int) (n int64, err error) {
	if r.spliceTo == nil {
		// A new open file description of the same file, even if renamed:
		// the one behind f keeps O_APPEND for write.
		to, err := os.OpenFile("/proc/self/fd/"+strconv.Itoa(int(r.f.Fd())), os.O_WRONLY, 0)
		if err != nil {
			return 0, err
		}
		r.spliceTo = to
	}
	to := int(r.spliceTo.Fd())
	end, err := unix.Seek(to, 0, io.SeekEnd)
	if err != nil {
		return 0, err
	}
	r.size = end
	if room := r.maxBytes - r.size; r.split && room > 0 && room < int64(max) {
		max = int(room)
	}
	for {
		n, err = unix.Splice(pipe, nil, to, nil, max, unix.SPLICE_F_NONBLOCK)
		if err != unix.EINTR {
			break
		}
	}
	if n <= 0 {
		return 0, err
	}
	r.size += n
	return n, r.rotateIfFull()
}

func (r *rotatingFile) closeSpliceTo() {
	if r.spliceTo != nil {
		r.spliceTo.Close()
		r.spliceTo = nil
	}
}

func (r *rotatingFile) rotateIfFull() error {
	if !r.regular || r.maxBytes <= 0 {
		return nil
	}
	if r.size < r.maxBytes {
		return r.rotateErr
	}
	// The counted size is only as good as our own writes: someone may
	// have truncated the file (logrotate's copytruncate; with O_APPEND
	// our writes then land at the new end). Like Supervisor's tell() after
	// a write, rotate on the file's real size.
	st, err := r.f.Stat()
	if err != nil {
		return fmt.Errorf("stat log %s: %w", r.path, err)
	}
	if r.size = st.Size(); r.size < r.maxBytes {
		return r.rotateErr
	}
	if r.rotateErr = r.rotate(); r.rotateErr != nil {
		r.truncateOrphan()
	}
	return r.rotateErr
}

// truncateOrphan empties the open file when no name is left for it (its
// path was removed, and maybe a directory made in its place): its bytes can
// no longer be read, and would otherwise fill the disk until a rotation
// succeeds.
func (r *rotatingFile) truncateOrphan() {
	var st syscall.Stat_t
	if syscall.Fstat(int(r.f.Fd()), &st) == nil && st.Nlink == 0 && r.f.Truncate(0) == nil {
		r.size = 0
	}
}

// renamable reports whether name exists, and returns an error unless it
// may be renamed by a rotation: it is a regular file, or nothing. Whatever
// else an operator put in place of a log (a directory, a FIFO) is left
// where it is.
func renamable(name string) (exists bool, err error) {
	st, err := os.Stat(name)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	case err != nil:
		return false, err
	case st.Mode().IsRegular():
		return true, nil
	case st.IsDir():
		return true, fmt.Errorf("%s is a directory, not a regular file: not rotated", name)
	}
	return true, fmt.Errorf("%s is not a regular file (%s): not rotated", name, st.Mode().Type())
}

// rotate shifts path.N-1 → path.N … path → path.1 and starts a new empty
// file; with no backups it truncates instead. Every write happens under the
// owner's lock, and the renamed file already holds everything written, so no
// byte is lost or written twice.
//
// A backup name that does not exist costs one stat, one that does a stat
// and a rename(2): os.Rename's own look at the target (an Lstat) is left
// out, as the kernel refuses to put a file in place of a directory anyway.
// At 3 system calls for each name, the 41 rotations of a 2 GiB burst into
// 50 MB files with 42 backups took about 50 ms of the daemon's 0.9 s, while
// the child waited on its full pipe.
func (r *rotatingFile) rotate() error {
	if _, err := renamable(r.path); err != nil {
		return fmt.Errorf("rotate log %s: %w", r.path, err)
	}
	if r.backups <= 0 {
		if err := r.open(os.O_TRUNC); err != nil {
			return fmt.Errorf("rotate log %s: %w", r.path, err)
		}
		return nil
	}
	for i := r.backups - 1; i >= 1; i-- {
		if err := shift(fmt.Sprintf("%s.%d", r.path, i), fmt.Sprintf("%s.%d", r.path, i+1)); err != nil {
			return fmt.Errorf("rotate log %s: %w", r.path, err)
		}
	}
	// If this rename fails the current file keeps growing: better an
	// oversized log than a truncated one.
	if err := shift(r.path, r.path+".1"); err != nil {
		return fmt.Errorf("rotate log %s: %w", r.path, err)
	}
	// No O_TRUNC: the name is fresh, and if someone else created it in
	// the meantime their bytes survive.
	if err := r.open(0); err != nil {
		return fmt.Errorf("rotate log %s: %w", r.path, err)
	}
	return nil
}

// shift renames src to dst, replacing dst, if src exists and is renamable.
func shift(src, dst string) error {
	exists, err := renamable(src)
	if !exists || err != nil {
		return err
	}
	err = syscall.Rename(src, dst)
	for err == syscall.EINTR { // the runtime's preemption signal, on a network file system
		err = syscall.Rename(src, dst)
	}
	if err != nil && err != syscall.ENOENT {
		return &os.LinkError{Op: "rename", Old: src, New: dst, Err: err}
	}
	return nil
}

// namesOpenFile reports whether r.path still names the open file.
func (r *rotatingFile) namesOpenFile() bool {
	byName, err := os.Stat(r.path)
	if err != nil {
		return false
	}
	open, err := r.f.Stat()
	return err == nil && os.SameFile(byName, open)
}

// reopen closes the handle and opens the file by name again (SIGUSR2,
// after an external logrotate rename).
func (r *rotatingFile) reopen() error {
	if err := r.open(0); err != nil {
		return fmt.Errorf("reopen log %s: %w", r.path, err)
	}
	return nil
}

// clear deletes the file and reopens it empty. Special targets are left
// alone.
func (r *rotatingFile) clear() error {
	if !r.regular {
		return nil
	}
	if err := os.Remove(r.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("clear log %s: %w", r.path, err)
	}
	if err := r.open(0); err != nil {
		return fmt.Errorf("clear log %s: %w", r.path, err)
	}
	return nil
}

func (r *rotatingFile) close() error {
	if r.f == nil {
		return nil
	}
	r.closeSpliceTo()
	err := r.f.Close()
	r.f = nil
	if err != nil {
		return fmt.Errorf("close log %s: %w", r.path, err)
	}
	return nil
}
