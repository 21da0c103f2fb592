package process

import (
	"bytes"
	"sync"
	"testing"
	"time"
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
