package logs

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// lockedBuffer collects Follow's output; Follow writes from its goroutine.
type lockedBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	flushes int
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) flush() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.flushes++
}

// take returns and clears what was written so far.
func (b *lockedBuffer) take() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.buf.String()
	b.buf.Reset()
	return s
}

type failingWriter struct{ err error }

func (w failingWriter) Write([]byte) (int, error) { return 0, w.err }

func appendFile(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
}

func TestFollow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "app.log")
		head := strings.Repeat("h", 1000)
		appendFile(t, path, head+strings.Repeat("b", 1024))
		ctx, cancel := context.WithCancel(t.Context())
		var out lockedBuffer
		done := make(chan error)
		go func() { done <- Follow(ctx, path, &out, 1024, out.flush) }()
		// poll lets Follow run one more poll and waits until it is idle.
		poll := func() string {
			time.Sleep(followInterval)
			synctest.Wait()
			return out.take()
		}
		synctest.Wait()
		if got := out.take(); got != strings.Repeat("b", 1024) {
			t.Fatalf("backlog = %d bytes %.10q…", len(got), got)
		}

		steps := []struct {
			name   string
			change func()
			want   string
		}{
			{"nothing new", func() {}, ""},
			{"append", func() { appendFile(t, path, "one\n") }, "one\n"},
			{"append twice", func() { appendFile(t, path, "two\n"); appendFile(t, path, "three\n") }, "two\nthree\n"},
			{"truncate and write", func() {
				if err := os.Truncate(path, 0); err != nil {
					t.Fatal(err)
				}
				appendFile(t, path, "fresh\n")
			}, truncatedMarker + "fresh\n"},
			{"rotate", func() {
				if err := os.Rename(path, path+".1"); err != nil {
					t.Fatal(err)
				}
				appendFile(t, path, "rotated\n")
			}, "rotated\n"},
			{"renamed away, not yet re-created", func() {
				appendFile(t, path, "x\n")
				if err := os.Rename(path, path+".2"); err != nil {
					t.Fatal(err)
				}
			}, "x\n"},
			{"re-created", func() { appendFile(t, path, "new file\n") }, "new file\n"},
		}
		for _, s := range steps {
			s.change()
			if got := poll(); got != s.want {
				t.Errorf("%s: got %q, want %q", s.name, got, s.want)
			}
		}
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Follow returned %v after cancel", err)
		}
		if out.flushes == 0 {
			t.Error("flush never called")
		}
	})
}

func TestFollowSmallFileAndMissing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "small.log")
		appendFile(t, path, "short\n")
		ctx, cancel := context.WithCancel(t.Context())
		var out lockedBuffer
		done := make(chan error)
		go func() { done <- Follow(ctx, path, &out, 1024, nil) }()
		synctest.Wait()
		if got := out.take(); got != "short\n" {
			t.Errorf("backlog of a small file = %q", got)
		}
		cancel()
		<-done
		broken := errors.New("client went away")
		if err := Follow(t.Context(), path, failingWriter{broken}, 1024, nil); !errors.Is(err, broken) {
			t.Errorf("failing writer: %v, want %v", err, broken)
		}
		if err := Follow(t.Context(), path+".missing", &out, 1024, nil); !errors.Is(err, ErrNoFile) {
			t.Errorf("missing file: %v, want ErrNoFile", err)
		}
	})
}
