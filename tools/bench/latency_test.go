package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// The tail hands out whole lines only, each once, across partial writes;
// a stamped line keeps the chatty length and carries its write time.
func TestTailStampedLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "w.log")
	tl := &tail{path: path}
	buf := make([]byte, 16) // smaller than a line: reads must join up
	if got, err := tl.lines(buf); err != nil || len(got) != 0 {
		t.Fatalf("before the file exists: %q, %v", got, err)
	}
	at := time.Unix(1700000000, 123456789)
	line := stampedLine("p0001", at)
	if len(line) != chattyLineLen {
		t.Fatalf("stamped line is %d bytes, want %d", len(line), chattyLineLen)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	t.Cleanup(func() {
		if tl.f != nil {
			tl.f.Close()
		}
	})
	f.Write(line[:20])
	if got, _ := tl.lines(buf); len(got) != 0 {
		t.Fatalf("a partial line came out: %q", got)
	}
	f.Write(line[20:])
	f.Write(line)
	got, err := tl.lines(buf)
	if err != nil || len(got) != 2 {
		t.Fatalf("got %q, %v; want 2 lines", got, err)
	}
	for _, l := range got {
		fields := bytes.Fields(l)
		if ns, err := strconv.ParseInt(string(fields[1]), 10, 64); err != nil || ns != at.UnixNano() {
			t.Errorf("line %q: stamp %d, %v; want %d", l, ns, err, at.UnixNano())
		}
	}
	if got, _ := tl.lines(buf); len(got) != 0 {
		t.Errorf("lines came out twice: %q", got)
	}
}
