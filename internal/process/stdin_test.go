package process

import (
	"errors"
	"os"
	"testing"
)

// A child that does not read gets at most maxStdinQueued bytes queued (past
// what the pipe holds); once it reads, writes are accepted again.
func TestStdinQueueBounded(t *testing.T) {
	r, wf, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	w := newStdinWriter(wf)
	defer w.Close()
	chunk := make([]byte, 256<<10)
	accepted := 0
	for range 100 {
		if _, err := w.Write(chunk); err != nil {
			if !errors.Is(err, ErrStdinFull) {
				t.Fatalf("write: %v, want ErrStdinFull", err)
			}
			break
		}
		accepted += len(chunk)
	}
	// The pipe holds 64 KiB (or up to 1 MiB when raised); the queue the rest.
	if accepted > 2*maxStdinQueued+len(chunk) || accepted < maxStdinQueued {
		t.Fatalf("%d bytes accepted for a child that does not read", accepted)
	}
	buf := make([]byte, 1<<20)
	for got := 0; got < accepted; {
		n, err := r.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		got += n
	}
	if _, err := w.Write(chunk); err != nil {
		t.Errorf("write once the child read everything: %v", err)
	}
}
