package process

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// lockedBuffer is a bytes.Buffer safe for the pump's writes and the test's reads.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// A child that writes its last words and exits at once hands the pump its
// data and the end of file in one readiness event. The pump must still find
// the end of file after reading the data, or it waits forever (and so does
// whoever waits for the child's output to be drained). The same holds for a
// grandchild that holds the pipe after the child has exited.
func TestPumpSeesEOFArrivingWithData(t *testing.T) {
	for i := range 600 {
		pp, w := outputPipe(t)
		out := &lockedBuffer{}
		done := make(chan struct{})
		go pp.pump(out, func() { close(done) })
		// First some output the pump copies and then waits for more...
		w.Write([]byte("first\n"))
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
			out.mu.Lock()
			n := out.buf.Len()
			out.mu.Unlock()
			if n > 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("round %d: pump copied nothing", i)
			}
		}
		// ...then the last words and the close, together.
		w.Write([]byte("last words\n"))
		w.Close()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("round %d: pump never saw the end of file after its data", i)
		}
		out.mu.Lock()
		got := out.buf.String()
		out.mu.Unlock()
		if got != "first\nlast words\n" {
			t.Fatalf("round %d: pump copied %q, want %q", i, got, "first\nlast words\n")
		}
	}
}

// splicingSink is a sink that splices (the role of logs.ChildLog) into a
// file, and declines every third time, so both of the pump's paths run.
type splicingSink struct {
	mu              sync.Mutex
	f               *os.File
	calls           int
	spliced, copied int64
}

func (s *splicingSink) SpliceFrom(fd, max int) (int64, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.calls++; s.calls%3 == 0 {
		return 0, false, nil
	}
	n, err := unix.Splice(fd, nil, int(s.f.Fd()), nil, max, unix.SPLICE_F_NONBLOCK)
	if n <= 0 {
		return 0, false, nil
	}
	s.spliced += n
	return n, true, err
}

func (s *splicingSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.copied += int64(len(p))
	return s.f.Write(p)
}

// TestPumpSplicesFloods: a flooded pipe goes to a sink that can splice
// through splice(2), a trickle through read and Write; whichever path each
// chunk takes, and when the sink declines, the output arrives whole and in
// order.
func TestPumpSplicesFloods(t *testing.T) {
	for _, tt := range []struct {
		argv    []string
		flooded bool
	}{
		{[]string{"seq", "1200000"}, true},
		{[]string{"echo", "a line"}, false},
	} {
		f, err := os.Create(filepath.Join(t.TempDir(), "out"))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		sink := &splicingSink{f: f}
		c, _, _ := helperCommand(t)
		c.Argv, c.Stdout = tt.argv, sink
		spawnHelper(t, c).finish(t)
		want, err := exec.Command(tt.argv[0], tt.argv[1:]...).Output()
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(f.Name())
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: %d bytes in the file, want the %d written, in order", tt.argv[0], len(got), len(want))
		}
		sink.mu.Lock()
		spliced, copied := sink.spliced, sink.copied
		sink.mu.Unlock()
		t.Logf("%s: %d bytes spliced, %d copied", tt.argv[0], spliced, copied)
		if tt.flooded && (spliced == 0 || copied == 0) {
			t.Errorf("%s: %d bytes spliced and %d copied: want both paths taken", tt.argv[0], spliced, copied)
		}
		if !tt.flooded && spliced != 0 {
			t.Errorf("%s: a line was spliced", tt.argv[0])
		}
	}
}
