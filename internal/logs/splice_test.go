package logs

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"golang.org/x/sys/unix"
)

// newPipe returns a pipe whose read end is non-blocking, as the pump's,
// and its write end as a file.
func newPipe(t *testing.T) (r int, w *os.File) {
	t.Helper()
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	if err := unix.SetNonblock(p[0], true); err != nil {
		t.Fatal(err)
	}
	w = os.NewFile(uintptr(p[1]), "pipe")
	t.Cleanup(func() { unix.Close(p[0]); w.Close() })
	return p[0], w
}

// drain moves the pipe into l until its end as the pump does: spliced when
// the log takes it, read and written when not. It returns the bytes spliced.
func drain(t *testing.T, l *ChildLog, fd int) (spliced int64) {
	t.Helper()
	buf := make([]byte, 1<<20)
	for {
		if _, err := unix.Poll([]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}, -1); err != nil && err != unix.EINTR {
			t.Fatal(err)
		}
		n, handled, err := l.SpliceFrom(fd, len(buf))
		if err != nil {
			t.Errorf("SpliceFrom: %v", err)
		}
		if handled {
			if n <= 0 {
				t.Fatalf("SpliceFrom handled %d bytes", n)
			}
			spliced += n
			continue
		}
		m, err := unix.Read(fd, buf)
		switch {
		case m > 0:
			writeString(t, l, string(buf[:m]))
		case err == unix.EAGAIN || err == unix.EINTR:
		case err != nil:
			t.Fatal(err)
		default:
			return spliced
		}
	}
}

// rotatedContent is the backups of path, oldest first, then path itself,
// put back together; each backup must be exactly maxBytes.
func rotatedContent(t *testing.T, path string, maxBytes int) []byte {
	t.Helper()
	var got []byte
	for i := 200; i >= 1; i-- {
		b, err := os.ReadFile(fmt.Sprintf("%s.%d", path, i))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(b) != maxBytes {
			t.Errorf("%s.%d: %d bytes, want %d", filepath.Base(path), i, len(b), maxBytes)
		}
		got = append(got, b...)
	}
	return append(got, readString(t, path)...)
}

// numbered is n lines "<i>\n" of fixed width: bytes out of order show.
func numbered(from, n int) []byte {
	var b bytes.Buffer
	for i := from; i < from+n; i++ {
		fmt.Fprintf(&b, "%09d\n", i)
	}
	return b.Bytes()
}

// TestChildSpliceRotates: a flood spliced into a rotating log ends up whole
// and in order across the files, each rotated one exactly maxBytes (the
// splice stops where the file is full, as a write does), and no descriptor
// is left on a rotated file.
func TestChildSpliceRotates(t *testing.T) {
	const maxBytes = 100_000
	path := filepath.Join(t.TempDir(), "flood.log")
	l := openChild(t, ChildConfig{Path: path, MaxBytes: maxBytes, Backups: 200})
	writeString(t, l, "first\n") // opens the file: splicing needs it open
	want := append([]byte("first\n"), numbered(0, 400_000)...)
	r, w := newPipe(t)
	go func() {
		// Unequal chunks, so that splices and rotations fall anywhere.
		rest := want[len("first\n"):]
		for i := 0; len(rest) > 0; i++ {
			n := min(len(rest), 1+(i*7919)%300_000)
			if _, err := w.Write(rest[:n]); err != nil {
				t.Error(err)
				break
			}
			rest = rest[n:]
		}
		w.Close()
	}()
	spliced := drain(t, l, r)
	if spliced < int64(len(want))/2 {
		t.Errorf("%d of %d bytes spliced: the splice path was hardly taken", spliced, len(want))
	}
	if got := rotatedContent(t, path, maxBytes); !bytes.Equal(got, want) {
		t.Errorf("the files hold %d bytes, not the %d written in order", len(got), len(want))
	}
	if n := openFDs(t, path+".1"); n != 0 {
		t.Errorf("%d descriptors left on the rotated file", n)
	}
	if n := openFDs(t, path); n != 2 {
		t.Errorf("%d descriptors on the log being written, want 2 (its own and the one to splice into)", n)
	}
}

// spliceString puts s in the pipe and splices it into l.
func spliceString(t *testing.T, l *ChildLog, r int, w *os.File, s string) {
	t.Helper()
	if _, err := w.WriteString(s); err != nil {
		t.Fatal(err)
	}
	n, handled, err := l.SpliceFrom(r, 1<<20)
	if !handled || n != int64(len(s)) || err != nil {
		t.Fatalf("SpliceFrom = %d, %v, %v; want %d spliced", n, handled, err, len(s))
	}
}

// TestChildSpliceAfterCopytruncate: logrotate's copytruncate empties the
// file under the daemon; spliced bytes, like appended ones, go on at the
// new end instead of leaving a hole of the old size, and the size that
// triggers rotation is the file's.
func TestChildSpliceAfterCopytruncate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.log")
	l := openChild(t, ChildConfig{Path: path, MaxBytes: 1000, Backups: 1})
	writeString(t, l, "opened\n")
	r, w := newPipe(t)
	spliceString(t, l, r, w, strings.Repeat("a", 900))
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	spliceString(t, l, r, w, strings.Repeat("b", 500))
	writeString(t, l, "c")
	spliceString(t, l, r, w, "d")
	if got, want := readString(t, path), strings.Repeat("b", 500)+"cd"; got != want {
		t.Errorf("after copytruncate the file holds %q…, %d bytes; want %d b, then cd", got[:min(len(got), 8)], len(got), 500)
	}
	if _, err := os.Stat(path + ".1"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("rotated on the size before the truncation: %v", err)
	}
	// The file's own size fills it to exactly maxBytes.
	spliceString(t, l, r, w, strings.Repeat("e", 498))
	spliceString(t, l, r, w, "f")
	if got := readString(t, path+".1"); len(got) != 1000 || !strings.HasSuffix(got, "cd"+strings.Repeat("e", 498)) {
		t.Errorf("rotated file: %d bytes, ends %q", len(got), got[max(0, len(got)-4):])
	}
	if got := readString(t, path); got != "f" {
		t.Errorf("file after rotation = %q", got)
	}
}

// pipeHolds reports whether the pipe still holds exactly s (and empties it).
func pipeHolds(t *testing.T, r int, s string) bool {
	t.Helper()
	buf := make([]byte, len(s)+1)
	n, _ := unix.Read(r, buf)
	return n == len(s) && string(buf[:n]) == s
}

// TestChildSpliceDeclines: wherever the bytes must go through Write (they
// are stripped, the target is special, the file is closed, the log is in a
// failed rotation) or there is nothing to move, SpliceFrom moves nothing
// and says so, leaving every byte in the pipe for the caller's read.
func TestChildSpliceDeclines(t *testing.T) {
	dir := t.TempDir()
	failing := filepath.Join(dir, "failing.log")
	if err := os.MkdirAll(filepath.Join(failing+".1", "blocker"), 0o755); err != nil {
		t.Fatal(err)
	}
	opened := func(l *ChildLog) *ChildLog { writeString(t, l, "x"); return l }
	closed := openChild(t, ChildConfig{Path: filepath.Join(dir, "closed.log")})
	opened(closed).Close()
	inRotationError := openChild(t, ChildConfig{Path: failing, MaxBytes: 4, Backups: 1})
	if _, err := inRotationError.Write([]byte("12345")); err == nil {
		t.Fatal("the rotation did not fail")
	}
	cases := map[string]*ChildLog{
		"strip_ansi":        opened(openChild(t, ChildConfig{Path: filepath.Join(dir, "strip.log"), StripANSI: true})),
		"special target":    opened(openChild(t, ChildConfig{Path: os.DevNull})),
		"idle, not open":    openChild(t, ChildConfig{Path: filepath.Join(dir, "idle.log")}),
		"deferred":          openChild(t, ChildConfig{Path: filepath.Join(dir, "deferred.log"), Creation: CreateAtSpawn}),
		"closed":            closed,
		"in rotation error": inRotationError,
	}
	r, w := newPipe(t)
	for name, l := range cases {
		w.WriteString("held")
		if n, handled, err := l.SpliceFrom(r, 1<<20); handled || n != 0 || err != nil {
			t.Errorf("%s: SpliceFrom = %d, %v, %v; want nothing moved", name, n, handled, err)
		}
		if !pipeHolds(t, r, "held") {
			t.Errorf("%s: the bytes left the pipe", name)
		}
	}
	empty := opened(openChild(t, ChildConfig{Path: filepath.Join(dir, "empty.log")}))
	if n, handled, err := empty.SpliceFrom(r, 1<<20); handled || n != 0 || err != nil {
		t.Errorf("empty pipe: SpliceFrom = %d, %v, %v; want nothing moved", n, handled, err)
	}
	// Once a rotation succeeds, splicing resumes.
	if err := os.RemoveAll(failing + ".1"); err != nil {
		t.Fatal(err)
	}
	writeString(t, inRotationError, "6")
	if inRotationError.Err() != nil {
		t.Fatalf("still failing: %v", inRotationError.Err())
	}
	spliceString(t, inRotationError, r, w, "78")
	if got := readString(t, failing+".1") + readString(t, failing); got != "123456"+"78" {
		t.Errorf("files hold %q", got)
	}
}

// TestChildSpliceRefusedFallsBack: a descriptor splice refuses (here the
// pipe's write end: EBADF) moves nothing and turns splicing off for the
// log, which Write goes on serving.
func TestChildSpliceRefusedFallsBack(t *testing.T) {
	path := filepath.Join(t.TempDir(), "w.log")
	l := openChild(t, ChildConfig{Path: path})
	writeString(t, l, "a")
	r, w := newPipe(t)
	if _, handled, _ := l.SpliceFrom(int(w.Fd()), 1<<20); handled {
		t.Fatal("spliced from the write end of a pipe")
	}
	spliceString(t, l, r, w, "b") // EBADF is not a refusal for good
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, handled, _ := l.SpliceFrom(int(f.Fd()), 1<<20); handled { // EINVAL: not a pipe
		t.Fatal("spliced from a regular file")
	}
	w.WriteString("c")
	if _, handled, _ := l.SpliceFrom(r, 1<<20); handled {
		t.Error("spliced again after the kernel refused with EINVAL")
	}
	if got := readString(t, path); got != "ab" {
		t.Errorf("file = %q", got)
	}
}

// TestChildSpliceIdleClose: the descriptor spliced into is closed with the
// log's own when idle, and the next splice after a reopen works.
func TestChildSpliceIdleClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "w.log")
		l := openChild(t, ChildConfig{Path: path})
		writeString(t, l, "a")
		r, w := newPipe(t)
		spliceString(t, l, r, w, "b")
		if n := openFDs(t, path); n != 2 {
			t.Errorf("%d descriptors while splicing, want 2", n)
		}
		time.Sleep(idleClose)
		synctest.Wait()
		if n := openFDs(t, path); n != 0 {
			t.Errorf("%d descriptors once idle, want 0", n)
		}
		writeString(t, l, "c")
		spliceString(t, l, r, w, "d")
		if got := readString(t, path); got != "abcd" {
			t.Errorf("file = %q", got)
		}
	})
}
