package logs

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"testing/synctest"
	"time"
)

func openChild(t *testing.T, c ChildConfig) *ChildLog {
	t.Helper()
	l, err := OpenChild(c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func writeString(t *testing.T, w io.Writer, s string) {
	t.Helper()
	if _, err := io.WriteString(w, s); err != nil {
		t.Fatal(err)
	}
}

func readString(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestChildRotation(t *testing.T) {
	line := strings.Repeat("x", 99) + "\n"
	tests := []struct {
		name    string
		backups int
		want    []string // files that must exist besides the base
		absent  string
	}{
		{"three backups", 3, []string{".1", ".2", ".3"}, ".4"},
		{"no backups truncates", 0, nil, ".1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "spew.log")
			l := openChild(t, ChildConfig{Path: path, MaxBytes: 1024, Backups: tt.backups})
			for range 100 {
				writeString(t, l, line)
			}
			for _, suffix := range tt.want {
				st, err := os.Stat(path + suffix)
				if err != nil {
					t.Fatal(err)
				}
				// A write is split where the file is full.
				if st.Size() != 1024 {
					t.Errorf("%s: size %d, want 1024", suffix, st.Size())
				}
			}
			if _, err := os.Stat(path + tt.absent); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("%s exists (err %v)", tt.absent, err)
			}
			// 100 lines of 100 bytes: 9 full files of 1024 bytes were
			// rotated away, 784 bytes remain.
			if st, err := os.Stat(path); err != nil || st.Size() != 784 {
				t.Errorf("base file: %v, %v; want 784 bytes", st, err)
			}
		})
	}
}

// TestChildRotationShiftsAroundGaps: a rotation moves each backup that
// exists one place up, over whatever was there, and skips the names that do
// not exist (an operator removed a backup), as Supervisor does; a backup that
// is not a regular file stops the rotation where it is, nothing below it
// moved, and the output stays in the base file.
func TestChildRotationShiftsAroundGaps(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gaps.log")
	for suffix, content := range map[string]string{"": "base", ".1": "one", ".3": "three", ".4": "four"} {
		if err := os.WriteFile(path+suffix, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	l := openChild(t, ChildConfig{Path: path, MaxBytes: 8, Backups: 4})
	writeString(t, l, "++++") // "base++++": full, rotated
	for suffix, want := range map[string]string{"": "", ".1": "base++++", ".2": "one", ".3": "", ".4": "three"} {
		got, err := os.ReadFile(path + suffix)
		switch {
		case want == "" && suffix != "":
			if !errors.Is(err, os.ErrNotExist) {
				t.Errorf("%s: %q, %v; want no such file", suffix, got, err)
			}
		case err != nil || string(got) != want:
			t.Errorf("%s: %q, %v; want %q", suffix, got, err, want)
		}
	}

	if err := syscall.Mkfifo(path+".3", 0o644); err != nil {
		t.Fatal(err)
	}
	l.Write([]byte("12345678")) // full again: .3 blocks the rotation
	if err := l.Err(); err == nil || !strings.Contains(err.Error(), path+".3 is not a regular file") {
		t.Errorf("Err = %v, want the FIFO named", err)
	}
	if st, err := os.Lstat(path + ".3"); err != nil || st.Mode().Type() != os.ModeNamedPipe {
		t.Errorf("the FIFO was moved: %v, %v", st, err)
	}
	for suffix, want := range map[string]string{"": "12345678", ".1": "base++++", ".2": "one", ".4": "three"} {
		if got := readString(t, path+suffix); got != want {
			t.Errorf("after the failed rotation %s = %q, want %q", suffix, got, want)
		}
	}
}

// TestChildRotationAfterExternalChange checks that rotation follows the
// file's real size when something else changed the file: a truncation
// (logrotate's copytruncate) must not make the next write rotate early, and
// a file that already holds bytes at open counts them.
func TestChildRotationAfterExternalChange(t *testing.T) {
	tests := []struct {
		name        string
		initial     int  // bytes in the file before it is opened
		truncate    bool // truncate it to 0 after the first write
		write       int  // second write
		wantRotated bool
	}{
		{"truncated below the limit", 0, true, 200, false},
		{"not truncated", 0, false, 200, true},
		{"existing bytes count", 300, false, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x.log")
			if err := os.WriteFile(path, bytes.Repeat([]byte("o"), tt.initial), 0o644); err != nil {
				t.Fatal(err)
			}
			l := openChild(t, ChildConfig{Path: path, MaxBytes: 1000, Backups: 1})
			writeString(t, l, strings.Repeat("a", 900))
			if tt.truncate {
				if err := os.Truncate(path, 0); err != nil {
					t.Fatal(err)
				}
			}
			writeString(t, l, strings.Repeat("b", tt.write))
			_, err := os.Stat(path + ".1")
			if rotated := err == nil; rotated != tt.wantRotated {
				t.Errorf("rotated = %v, want %v", rotated, tt.wantRotated)
			}
		})
	}
}

// TestChildConcurrentRotationLosesNothing writes numbered lines from many
// goroutines through one ChildLog and checks that the rotated files, put
// back together, hold every line exactly once, whole, and in per-writer
// order.
func TestChildConcurrentRotationLosesNothing(t *testing.T) {
	const writers, lines = 8, 500
	path := filepath.Join(t.TempDir(), "worker.log")
	l := openChild(t, ChildConfig{Path: path, MaxBytes: 4096, Backups: 200})
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range lines {
				if _, err := fmt.Fprintf(l, "writer %d line %d %s\n", w, i, strings.Repeat("p", i%17)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if _, err := os.Stat(fmt.Sprintf("%s.%d", path, 200)); err == nil {
		t.Fatal("backups exhausted; the test cannot see every byte")
	}
	// Oldest file first: path.N … path.1, path.
	var files []string
	for i := 200; i >= 1; i-- {
		if _, err := os.Stat(fmt.Sprintf("%s.%d", path, i)); err == nil {
			files = append(files, fmt.Sprintf("%s.%d", path, i))
		}
	}
	if len(files) < 10 {
		t.Fatalf("only %d rotations", len(files))
	}
	files = append(files, path)
	var all strings.Builder
	for _, f := range files {
		all.WriteString(readString(t, f))
	}
	next := make([]int, writers)
	sc := bufio.NewScanner(strings.NewReader(all.String()))
	for sc.Scan() {
		var w, i int
		var pad string
		n, _ := fmt.Sscanf(sc.Text(), "writer %d line %d %s", &w, &i, &pad)
		if n < 2 || w < 0 || w >= writers || i != next[w] || len(pad) != i%17 {
			t.Fatalf("unexpected line %q (want writer %d line %d)", sc.Text(), w, next[w])
		}
		next[w]++
	}
	for w, n := range next {
		if n != lines {
			t.Errorf("writer %d: %d lines found, want %d", w, n, lines)
		}
	}
}

func TestChildSpecialTargets(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	got := make(chan string)
	go func() {
		f, err := os.Open(fifo)
		if err != nil {
			got <- err.Error()
			return
		}
		b, _ := io.ReadAll(f)
		f.Close()
		got <- string(b)
	}()
	l, err := OpenChild(ChildConfig{Path: fifo, MaxBytes: 4, Backups: 2})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		writeString(t, l, "hello\n")
	}
	if err := l.Clear(); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if s := <-got; s != "hello\nhello\nhello\n" {
		t.Errorf("fifo reader got %q", s)
	}
	if _, err := os.Stat(fifo + ".1"); err == nil {
		t.Error("fifo was rotated")
	}

	null := openChild(t, ChildConfig{Path: "/dev/null", MaxBytes: 1, Backups: 1})
	writeString(t, null, "discarded\n")
	if err := null.Clear(); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat("/dev/null"); err != nil || st.Mode()&os.ModeCharDevice == 0 {
		t.Fatalf("/dev/null damaged: %v %v", st, err)
	}
	if _, err := os.Stat("/dev/null.1"); err == nil {
		t.Error("/dev/null was rotated")
	}
}

// TestChildDevNames: a regular file named through /dev/fd (as /dev/stdout
// redirected to a file) is a special target, never rotated; a log file of
// its own under /dev (a tmpfs at /dev/shm) rotates like any other.
func TestChildDevNames(t *testing.T) {
	target, err := os.Create(filepath.Join(t.TempDir(), "redirected"))
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	viaFD := openChild(t, ChildConfig{Path: fmt.Sprintf("/dev/fd/%d", target.Fd()), MaxBytes: 4, Backups: 1})
	for range 3 {
		writeString(t, viaFD, "hello\n")
	}
	if got := readString(t, target.Name()); got != "hello\nhello\nhello\n" {
		t.Errorf("file behind /dev/fd holds %q", got)
	}

	shm, err := os.MkdirTemp("/dev/shm", "drvlogs")
	if err != nil {
		t.Skipf("no /dev/shm: %v", err)
	}
	defer os.RemoveAll(shm)
	path := filepath.Join(shm, "w.log")
	l := openChild(t, ChildConfig{Path: path, MaxBytes: 4, Backups: 1})
	writeString(t, l, "hello\n")
	if got := readString(t, path+".1"); got != "hell" {
		t.Errorf("%s.1 = %q, want the first 4 bytes", path, got)
	}
	if got := readString(t, path); got != "o\n" {
		t.Errorf("%s = %q", path, got)
	}
}

func TestChildReopenAfterExternalRename(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.log")
	l := openChild(t, ChildConfig{Path: path})
	writeString(t, l, "a")
	if err := os.Rename(path, path+".old"); err != nil {
		t.Fatal(err)
	}
	writeString(t, l, "b")
	if err := l.Reopen(); err != nil {
		t.Fatal(err)
	}
	writeString(t, l, "c")
	if got := readString(t, path+".old"); got != "ab" {
		t.Errorf("renamed file = %q, want %q", got, "ab")
	}
	if got := readString(t, path); got != "c" {
		t.Errorf("reopened file = %q, want %q", got, "c")
	}
}

func TestChildClear(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.log")
	l := openChild(t, ChildConfig{Path: path})
	writeString(t, l, "old output\n")
	if err := l.Clear(); err != nil {
		t.Fatal(err)
	}
	if got := readString(t, path); got != "" {
		t.Errorf("after Clear = %q", got)
	}
	writeString(t, l, "new\n")
	if got := readString(t, path); got != "new\n" {
		t.Errorf("after write = %q", got)
	}
}

func TestChildWriteErrorReportedOnce(t *testing.T) {
	var reported []error
	l := openChild(t, ChildConfig{Path: "/dev/full", OnError: func(err error) { reported = append(reported, err) }})
	for range 2 {
		n, err := l.Write([]byte("data"))
		if !errors.Is(err, syscall.ENOSPC) || n != 0 {
			t.Fatalf("Write = %d, %v; want 0, ENOSPC", n, err)
		}
	}
	if !errors.Is(l.Err(), syscall.ENOSPC) {
		t.Errorf("Err() = %v", l.Err())
	}
	if len(reported) != 1 {
		t.Errorf("OnError called %d times, want 1", len(reported))
	}
}

func TestStripANSI(t *testing.T) {
	tests := []struct {
		name   string
		writes []string
		want   string
	}{
		{"plain", []string{"hello\n"}, "hello\n"},
		{"colour", []string{"\x1b[31mred\x1b[0m\n"}, "red\n"},
		{"cursor and erase", []string{"a\x1b[2Kb\x1b[10;20Hc"}, "abc"},
		{"split inside sequence", []string{"x\x1b[3", "1my"}, "xy"},
		{"split after ESC", []string{"x\x1b", "[1my"}, "xy"},
		{"lone ESC kept", []string{"x\x1b", "y"}, "x\x1by"},
		{"lone ESC at close", []string{"x\x1b"}, "x\x1b"},
		{"unterminated bounded", []string{"\x1b[" + strings.Repeat("9", 100) + "z"}, strings.Repeat("9", 100-maxEscapeLen) + "z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "out.log")
			l, err := OpenChild(ChildConfig{Path: path, StripANSI: true})
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.writes {
				n, err := l.Write([]byte(w))
				if err != nil || n != len(w) {
					t.Fatalf("Write = %d, %v", n, err)
				}
			}
			l.Close()
			if got := readString(t, path); !bytes.Equal([]byte(got), []byte(tt.want)) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// TestChildInheritedSocket covers /dev/fd/N naming a socket, which cannot be
// opened by name (ENXIO) and must be duplicated instead.
func TestChildInheritedSocket(t *testing.T) {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	ours, peer := os.NewFile(uintptr(fds[0]), "ours"), os.NewFile(uintptr(fds[1]), "peer")
	defer peer.Close()
	path := fmt.Sprintf("/dev/fd/%d", fds[0])
	if _, err := os.OpenFile(path, os.O_WRONLY, 0); !errors.Is(err, syscall.ENXIO) {
		t.Skipf("opening a socket by name did not fail with ENXIO (%v)", err)
	}
	l, err := OpenChild(ChildConfig{Path: path, MaxBytes: 1, Backups: 1})
	ours.Close() // the log holds its own duplicate
	if err != nil {
		t.Fatal(err)
	}
	writeString(t, l, "via socket\n")
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(peer)
	if err != nil || string(got) != "via socket\n" {
		t.Errorf("peer read %q, %v", got, err)
	}
}

// TestChildFailedRotationKeepsData blocks the rename to path.1 with a
// directory: the data must stay in the growing base file and the failure be
// reported once.
func TestChildFailedRotationKeepsData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.log")
	if err := os.MkdirAll(filepath.Join(path+".1", "blocker"), 0o755); err != nil {
		t.Fatal(err)
	}
	var reported int
	l := openChild(t, ChildConfig{Path: path, MaxBytes: 4, Backups: 1, OnError: func(error) { reported++ }})
	for _, s := range []string{"12345", "678"} {
		n, err := l.Write([]byte(s))
		if n != len(s) || err == nil {
			t.Errorf("Write(%q) = %d, %v; want %d and a rotation error", s, n, err, len(s))
		}
	}
	if got := readString(t, path); got != "12345678" {
		t.Errorf("base file = %q", got)
	}
	if reported != 1 {
		t.Errorf("OnError called %d times, want 1", reported)
	}
}

// TestChildReopenClearDuringWrites runs Reopen and Clear while writers
// rotate the file; under -race it checks the locking, and every call must
// succeed.
func TestChildReopenClearDuringWrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "busy.log")
	l := openChild(t, ChildConfig{Path: path, MaxBytes: 512, Backups: 2, StripANSI: true})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 200 {
				if _, err := io.WriteString(l, "\x1b[32mgreen\x1b[0m line\n"); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Go(func() {
		for i := range 50 {
			op := l.Reopen
			if i%2 == 1 {
				op = l.Clear
			}
			if err := op(); err != nil {
				t.Error(err)
				return
			}
		}
	})
	wg.Wait()
	if l.Err() != nil {
		t.Errorf("Err() = %v", l.Err())
	}
	if got := readString(t, path); strings.Contains(got, "\x1b") || len(got) >= 512+len("green line\n") {
		t.Errorf("base file has escapes or was not rotated: %d bytes", len(got))
	}
}

// A CreateAtSpawn log has no file until the first spawn (Create); each
// later Create reopens a file whose name went away while the process was
// down.
func TestChildDeferredCreate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.log")
	l := openChild(t, ChildConfig{Path: path, Creation: CreateAtSpawn})
	exists := func() bool { _, err := os.Stat(path); return err == nil }
	if err := l.Clear(); err != nil || exists() {
		t.Fatalf("Clear before Create: %v, file exists %v", err, exists())
	}
	if err := l.Reopen(); err != nil || exists() {
		t.Fatalf("Reopen before Create: %v, file exists %v", err, exists())
	}
	l.Create()
	if !exists() || l.Err() != nil {
		t.Fatalf("Create: file exists %v, err %v", exists(), l.Err())
	}
	writeString(t, l, "one\n")
	os.Remove(path)
	l.Create()
	writeString(t, l, "two\n")
	l.Create() // same file: no reopen, nothing lost
	writeString(t, l, "three\n")
	if data, err := os.ReadFile(path); err != nil || string(data) != "two\nthree\n" {
		t.Errorf("after recreation the file has %q, %v; want two and three", data, err)
	}
	l.Close()
	os.Remove(path)
	l.Create()
	if exists() {
		t.Error("Create after Close created the file")
	}
}

// TestChildRotatedFilesWithinMaxBytes writes reads of a pump's size (up to
// 1 MiB) into a log of maxbytes=100KB: every rotated file is exactly
// maxbytes, and nothing is lost (a whole read used to be written before the
// rotation: files reached 160 KB).
func TestChildRotatedFilesWithinMaxBytes(t *testing.T) {
	const maxBytes = 100 * 1024
	path := filepath.Join(t.TempDir(), "w.log")
	l := openChild(t, ChildConfig{Path: path, MaxBytes: maxBytes, Backups: 50})
	var want bytes.Buffer
	for i, n := range []int{60 << 10, 1 << 20, 7, 99 << 10, 300 << 10} {
		p := bytes.Repeat([]byte{byte('a' + i)}, n)
		want.Write(p)
		if n, err := l.Write(p); n != len(p) || err != nil {
			t.Fatalf("Write = %d, %v", n, err)
		}
	}
	var got []byte
	for i := 50; i >= 1; i-- {
		b, err := os.ReadFile(fmt.Sprintf("%s.%d", path, i))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if len(b) != maxBytes {
			t.Errorf("%s.%d: %d bytes, want %d", path, i, len(b), maxBytes)
		}
		got = append(got, b...)
	}
	got = append(got, readString(t, path)...)
	if !bytes.Equal(got, want.Bytes()) {
		t.Errorf("the files hold %d bytes, not the %d written in order", len(got), want.Len())
	}
}

// TestChildRotationLeavesADirectory replaces a log by a directory while it
// is written: rotation must not move the directory, must report once, must
// keep the output bounded and must resume once the directory is gone.
func TestChildRotationLeavesADirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "w.log")
	var reported []error
	l := openChild(t, ChildConfig{Path: path, MaxBytes: 100, Backups: 2,
		OnError: func(err error) { reported = append(reported, err) }})
	writeString(t, l, "first\n")
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(path, "data"), 0o755); err != nil {
		t.Fatal(err)
	}
	for range 50 {
		l.Write(bytes.Repeat([]byte("x"), 30))
	}
	if st, err := os.Stat(filepath.Join(path, "data")); err != nil || !st.IsDir() {
		t.Errorf("the directory was moved: %v", err)
	}
	if _, err := os.Stat(path + ".1"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s.1 exists (%v): something was renamed", path, err)
	}
	want := "rotate log " + path + ": " + path + " is a directory, not a regular file: not rotated"
	if len(reported) != 1 || reported[0].Error() != want {
		t.Errorf("reported %q, want once %q", reported, want)
	}
	// The open file has no name any more: it is kept within maxbytes.
	if size := l.file.size; size > 100 {
		t.Errorf("the orphaned file grew to %d bytes", size)
	}

	if err := os.RemoveAll(path); err != nil {
		t.Fatal(err)
	}
	// The next time the orphan is full, the rotation succeeds.
	for range 4 {
		l.Write(bytes.Repeat([]byte("y"), 30))
	}
	if got := readString(t, path); got == "" || strings.Trim(got, "y") != "" {
		t.Errorf("after the directory went: %q", got)
	}
	if l.Err() != nil {
		t.Errorf("Err = %v after a rotation succeeded", l.Err())
	}
}

// openFDs counts this process's descriptors open on path.
func openFDs(t *testing.T, path string) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if target, _ := os.Readlink(filepath.Join("/proc/self/fd", e.Name())); target == path {
			n++
		}
	}
	return n
}

// TestChildClosesIdleFile: a log holds its file open only while written to
// (a stopped program's logs held two descriptors each); the next output
// opens it again by name and appends, and rotation goes on across the
// closing.
func TestChildClosesIdleFile(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "w.log")
		l := openChild(t, ChildConfig{Path: path, MaxBytes: 10, Backups: 1})
		if n := openFDs(t, path); n != 0 {
			t.Errorf("%d descriptors on a log nothing was written to", n)
		}
		writeString(t, l, "abc")
		if n := openFDs(t, path); n != 1 {
			t.Errorf("%d descriptors on a log being written, want 1", n)
		}
		time.Sleep(idleClose / 2)
		writeString(t, l, "def")
		time.Sleep(idleClose - time.Millisecond)
		synctest.Wait()
		if n := openFDs(t, path); n != 1 {
			t.Errorf("closed %v after the last write, before idleClose", idleClose-time.Millisecond)
		}
		time.Sleep(time.Millisecond)
		synctest.Wait()
		if n := openFDs(t, path); n != 0 {
			t.Errorf("%d descriptors idleClose after the last write, want 0", n)
		}
		writeString(t, l, "ghijk")
		if got := readString(t, path+".1"); got != "abcdefghij" {
			t.Errorf("rotated file = %q", got)
		}
		if got := readString(t, path); got != "k" {
			t.Errorf("file = %q", got)
		}
		l.Create() // a spawn opens it; Close closes it for good
		if err := l.Close(); err != nil || openFDs(t, path) != 0 {
			t.Errorf("Close = %v, %d descriptors left", err, openFDs(t, path))
		}
	})
}
