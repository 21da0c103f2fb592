package logs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
)

func TestAutoName(t *testing.T) {
	dir := t.TempDir()
	seen := map[string]bool{}
	name := regexp.MustCompile(`^worker_01-stdout---myident-[a-z0-9_]{8}\.log$`)
	for range 20 {
		path := AutoName(dir, "worker_01", "stdout", "myident")
		if filepath.Dir(path) != dir || !name.MatchString(filepath.Base(path)) {
			t.Errorf("AutoName = %q", path)
		}
		if _, err := os.Stat(path); err == nil {
			t.Errorf("AutoName created %s", path)
		}
		if seen[path] {
			t.Errorf("duplicate name %s", path)
		}
		seen[path] = true
	}
}

// An AUTO log's file is created by Ensure or by the first Write, whichever
// comes first, never by a spawn (Create), empty and private as mkstemp
// makes it; a reader that ensured it first reads it empty, not NO_FILE.
func TestAutoCreation(t *testing.T) {
	dir := t.TempDir()
	open := func(name string) (*ChildLog, string) {
		path := filepath.Join(dir, name)
		return openChild(t, ChildConfig{Path: path, Creation: CreateAuto}), path
	}
	private := func(path string) {
		t.Helper()
		if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, %v; want a file with mode 0600", path, st, err)
		}
	}

	l, path := open("ensured.log")
	if _, err := os.Stat(path); err == nil {
		t.Fatal("OpenChild created an AUTO file")
	}
	l.Create()
	if _, err := Read(path, 0, 0); !errors.Is(err, ErrNoFile) {
		t.Fatalf("after a spawn: Read = %v, want no file yet", err)
	}
	l.Ensure()
	if data, err := Read(path, 0, 0); err != nil || len(data) != 0 {
		t.Fatalf("after Ensure: Read = %q, %v; want an empty file", data, err)
	}
	private(path)
	if n := openFDs(t, path); n != 0 {
		t.Errorf("Ensure left %d descriptors open", n)
	}
	writeString(t, l, "one\n")
	l.Ensure() // created already: nothing happens
	writeString(t, l, "two\n")
	if got := readString(t, path); got != "one\ntwo\n" {
		t.Errorf("file = %q", got)
	}

	l, path = open("written.log")
	writeString(t, l, "first\n")
	l.Ensure()
	if got := readString(t, path); got != "first\n" {
		t.Errorf("file = %q", got)
	}
	private(path)

	l, path = open("cleared.log")
	if err := l.Clear(); err != nil {
		t.Fatal(err)
	}
	if got := readString(t, path); got != "" {
		t.Errorf("after Clear the file has %q", got)
	}

	l, path = open("closed.log")
	l.Close()
	l.Ensure()
	if _, err := l.Write([]byte("late")); err == nil {
		t.Error("Write after Close succeeded")
	}
	if err := l.Clear(); err == nil {
		t.Error("Clear after Close succeeded")
	}
	if _, err := os.Stat(path); err == nil {
		t.Error("a closed AUTO log created its file")
	}
}

// A name already taken (a random collision, a file kept by nocleanup or
// handed over by an upgrade) is appended to, not replaced, and no error.
func TestAutoCollisionAppends(t *testing.T) {
	path := filepath.Join(t.TempDir(), "taken.log")
	if err := os.WriteFile(path, []byte("before\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	l := openChild(t, ChildConfig{Path: path, Creation: CreateAuto})
	l.Ensure()
	writeString(t, l, "after\n")
	if got := readString(t, path); got != "before\nafter\n" || l.Err() != nil {
		t.Errorf("file = %q, Err %v; want both lines, no error", got, l.Err())
	}
}

// A file that cannot be created is reported once (OnError), and the next
// Ensure after the cause is gone creates it.
func TestAutoCreationError(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "later")
	path := filepath.Join(dir, "out.log")
	var reported []error
	l := openChild(t, ChildConfig{Path: path, Creation: CreateAuto, OnError: func(err error) { reported = append(reported, err) }})
	l.Ensure()
	l.Ensure()
	if !errors.Is(l.Err(), fs.ErrNotExist) || len(reported) != 1 {
		t.Fatalf("Err %v, reported %v; want one report of the missing directory", l.Err(), reported)
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	l.Ensure()
	if _, err := os.Stat(path); err != nil || l.Err() != nil {
		t.Errorf("after the directory came: %v, Err %v", err, l.Err())
	}
}

// Ensure, Write and Close from different goroutines: the file is created
// once, everything written before Close is in it (for the race detector).
func TestAutoCreationConcurrent(t *testing.T) {
	for i := range 20 {
		path := filepath.Join(t.TempDir(), fmt.Sprintf("%d.log", i))
		l, err := OpenChild(ChildConfig{Path: path, Creation: CreateAuto})
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var written atomic.Int64
		wg.Go(l.Ensure)
		wg.Go(func() {
			for range 10 {
				if n, err := l.Write([]byte("x")); err == nil {
					written.Add(int64(n))
				}
			}
		})
		wg.Go(func() { l.Close() })
		wg.Wait()
		data, err := os.ReadFile(path)
		if err != nil && written.Load() > 0 {
			t.Fatalf("%d bytes written, file: %v", written.Load(), err)
		}
		if int64(len(data)) != written.Load() {
			t.Errorf("file has %d bytes, %d written", len(data), written.Load())
		}
	}
}

func TestCleanupAuto(t *testing.T) {
	tests := []struct {
		name    string
		removed bool
	}{
		{"worker_01-stdout---supervisor-bryep212.log", true},
		{"worker_01-stderr---supervisor-bryep212.log.1", true},
		{"cat-stdout---supervisor-abc_defg.log.1234", true},
		{"x---supervisor-a.log.bak", true}, // the regex is anchored at the start only
		{"worker-stdout---other-bryep212.log", false},
		{"worker-stdout--supervisor-bryep212.log", false},
		{"---supervisor-bryep212.log", false},
		{"x---supervisor-.log", false},
		{"x---supervisor-abc.txt", false},
		{"x---supervisorX-abc.log", false},
		{"app.log", false},
	}
	dir := t.TempDir()
	for _, tt := range tests {
		if err := os.WriteFile(filepath.Join(dir, tt.name), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := CleanupAuto(dir, "supervisor"); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, e := range entries {
		left = append(left, e.Name())
	}
	for _, tt := range tests {
		if kept := slices.Contains(left, tt.name); kept == tt.removed {
			t.Errorf("%s: kept=%v, want removed=%v", tt.name, kept, tt.removed)
		}
	}
}

func TestCleanupAutoQuotesIdentifier(t *testing.T) {
	if autoPattern("a.b").MatchString("x---aXb-abc.log") {
		t.Error("identifier metacharacters are not quoted")
	}
	if !autoPattern("a.b").MatchString("x---a.b-abc.log") {
		t.Error("quoted identifier does not match itself")
	}
}

// BenchmarkAutoLog measures what an AUTO log costs: naming it and opening
// it as a child log (before the first spawn), then creating its file.
func BenchmarkAutoLog(b *testing.B) {
	dir := b.TempDir()
	for b.Loop() {
		l, err := OpenChild(ChildConfig{Path: AutoName(dir, "worker", "stdout", "supervisor"), MaxBytes: 50 << 20, Backups: 10, Creation: CreateAuto})
		if err != nil {
			b.Fatal(err)
		}
		l.Ensure()
		if err := l.Err(); err != nil {
			b.Fatal(err)
		}
		l.Close()
	}
}

// A reader's Ensure of an AUTO file that exists leaves an episode of
// failing writes as it is: the next failing write is not reported again.
func TestAutoEnsureKeepsWriteErrorEpisode(t *testing.T) {
	var reported []error
	l := openChild(t, ChildConfig{Path: "/dev/full", Creation: CreateAuto, OnError: func(err error) { reported = append(reported, err) }})
	l.Ensure()
	for range 2 {
		if _, err := l.Write([]byte("x")); !errors.Is(err, syscall.ENOSPC) {
			t.Fatalf("Write = %v, want ENOSPC", err)
		}
		l.Ensure() // a reader, between two failing writes
		if !errors.Is(l.Err(), syscall.ENOSPC) {
			t.Fatalf("after Ensure Err = %v, want the write's ENOSPC", l.Err())
		}
	}
	if len(reported) != 1 {
		t.Errorf("OnError called %d times, want 1", len(reported))
	}
}
