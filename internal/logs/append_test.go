package logs

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// appendString appends s to l the way the output path's ring does:
// BeginAppend, its own write(2), EndAppend. It reports false, having
// written nothing, if l declined.
func appendString(t *testing.T, l *ChildLog, s string) bool {
	t.Helper()
	fd, ok := l.BeginAppend(len(s))
	if !ok {
		return false
	}
	n, err := syscall.Write(fd, []byte(s))
	if err != nil {
		n = 0
	}
	l.EndAppend(n, err)
	return true
}

// TestChildAppendStopsShortOfRotation: appends are counted like writes,
// so the log declines the append that would reach maxbytes, and the Write
// that takes it instead rotates at exactly maxbytes; after an external
// truncation (copytruncate) appends land at the new end.
func TestChildAppendStopsShortOfRotation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.log")
	l := openChild(t, ChildConfig{Path: path, MaxBytes: 100, Backups: 1})
	writeString(t, l, strings.Repeat("a", 40)) // opens the file
	if !appendString(t, l, strings.Repeat("b", 50)) {
		t.Fatal("a plain append under maxbytes declined")
	}
	if appendString(t, l, strings.Repeat("c", 10)) {
		t.Fatal("an append reaching maxbytes was taken: it needs a rotation")
	}
	writeString(t, l, strings.Repeat("c", 30))
	if got, want := readString(t, path+".1"), strings.Repeat("a", 40)+strings.Repeat("b", 50)+strings.Repeat("c", 10); got != want {
		t.Errorf("rotated file = %q, want %q", got, want)
	}
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	if !appendString(t, l, "d") {
		t.Fatal("append declined")
	}
	if got, want := readString(t, path), "d"; got != want {
		t.Errorf("after copytruncate the log holds %q, want %q", got, want)
	}
}

// TestChildAppendDeclines: whatever needs the log's own Write is
// declined: stripping, a file not yet created or idle-closed, a special
// target, a closed log, and a log another append holds.
func TestChildAppendDeclines(t *testing.T) {
	dir := t.TempDir()
	strip := openChild(t, ChildConfig{Path: filepath.Join(dir, "strip.log"), StripANSI: true})
	writeString(t, strip, "x")
	deferred := openChild(t, ChildConfig{Path: filepath.Join(dir, "deferred.log"), Deferred: true})
	idle := openChild(t, ChildConfig{Path: filepath.Join(dir, "idle.log")}) // closed until its first write
	null := openChild(t, ChildConfig{Path: os.DevNull})
	closed := openChild(t, ChildConfig{Path: filepath.Join(dir, "closed.log")})
	writeString(t, closed, "x")
	closed.Close()
	for name, l := range map[string]*ChildLog{"strip": strip, "deferred": deferred, "idle": idle, "special": null, "closed": closed} {
		if appendString(t, l, "x") {
			t.Errorf("%s: append taken", name)
		}
	}
	busy := openChild(t, ChildConfig{Path: filepath.Join(dir, "busy.log")})
	writeString(t, busy, "x")
	if _, ok := busy.BeginAppend(1); !ok {
		t.Fatal("append declined")
	}
	if _, again := busy.BeginAppend(1); again {
		t.Error("a second append taken while the first holds the log")
	}
	busy.EndAppend(0, nil)
}

// TestChildAppendErrorReported: a failed append is reported like a
// failed Write, once, and cleared by the next success.
func TestChildAppendErrorReported(t *testing.T) {
	var reported []error
	path := filepath.Join(t.TempDir(), "x.log")
	l := openChild(t, ChildConfig{Path: path, OnError: func(err error) { reported = append(reported, err) }})
	writeString(t, l, "x")
	for range 2 {
		if _, ok := l.BeginAppend(1); !ok {
			t.Fatal("append declined")
		}
		l.EndAppend(0, syscall.ENOSPC)
	}
	if err := l.Err(); !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), path) {
		t.Errorf("Err() = %v, want ENOSPC naming %s", err, path)
	}
	if len(reported) != 1 {
		t.Errorf("reported %d times, want once: %v", len(reported), reported)
	}
	appendString(t, l, "y")
	if err := l.Err(); err != nil {
		t.Errorf("Err() after a good append = %v", err)
	}
}
