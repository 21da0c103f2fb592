package logs

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// writeLines writes "p<prog> line <i> <padding>\n" for i < n to w in chunks
// of random sizes, so that lines are split across writes and writes end
// mid-line.
func writeLines(w io.Writer, prog, n int, seed uint64) {
	r := rand.New(rand.NewPCG(seed, 1))
	var all bytes.Buffer
	for i := range n {
		fmt.Fprintf(&all, "p%d line %d %s\n", prog, i, strings.Repeat("x", r.IntN(300)))
	}
	data := all.Bytes()
	for len(data) > 0 {
		k := min(len(data), 1+r.IntN(700))
		w.Write(data[:k])
		data = data[k:]
	}
}

// Fifty programs write at once into one pipe through a shared ChildLog-like
// destination: every line arrives whole, prefixed once, none lost or
// reordered within its program.
func TestLineWritersShareAPipe(t *testing.T) {
	const programs, lines = 50, 200
	r, wr, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	dst := &lockedWriter{w: wr}
	got := make(chan []string)
	go func() {
		var ls []string
		sc := bufio.NewScanner(r)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			ls = append(ls, sc.Text())
		}
		got <- ls
	}()
	var wg sync.WaitGroup
	for p := range programs {
		wg.Go(func() {
			lw := NewLineWriter(dst, LineFormat{Prefix: fmt.Sprintf("[p%d] ", p)})
			writeLines(lw, p, lines, uint64(p))
		})
	}
	wg.Wait()
	wr.Close()
	checkLines(t, <-got, programs, lines, regexp.MustCompile(`^\[p(\d+)\] p(\d+) line (\d+) x*$`))
}

// lockedWriter is what a shared ChildLog is to its writers: one Write at a time.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// checkLines checks that out holds, for each program, its lines 0..n-1 in
// order, each matching re (groups: prefix program, program, line number).
func checkLines(t *testing.T, out []string, programs, n int, re *regexp.Regexp) {
	t.Helper()
	next := make([]int, programs)
	for _, l := range out {
		m := re.FindStringSubmatch(l)
		if m == nil || m[1] != m[2] {
			t.Fatalf("malformed or mixed line %.200q", l)
		}
		p, _ := strconv.Atoi(m[1])
		i, _ := strconv.Atoi(m[3])
		if i != next[p] {
			t.Fatalf("program %d: line %d after line %d", p, i, next[p]-1)
		}
		next[p]++
	}
	for p, c := range next {
		if c != n {
			t.Errorf("program %d: %d lines, want %d", p, c, n)
		}
	}
}

func TestLineWriterJSON(t *testing.T) {
	var out bytes.Buffer
	lw := NewLineWriter(&out, LineFormat{JSON: true, Program: "web", Stream: "stderr"})
	lw.now = func() time.Time { return time.Date(2026, 12, 5, 10, 0, 0, 123456000, time.UTC) }
	lw.Write([]byte("GET /a?x=1&y=<2> \"ok\"\nbad \xff byte\nno newline"))
	lw.Flush()
	want := `{"time":"2026-12-05T10:00:00.123456Z","program":"web","stream":"stderr","line":"GET /a?x=1&y=<2> \"ok\""}
{"time":"2026-12-05T10:00:00.123456Z","program":"web","stream":"stderr","line":"bad \ufffd byte"}
{"time":"2026-12-05T10:00:00.123456Z","program":"web","stream":"stderr","line":"no newline"}
`
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
}

// A line longer than MaxLineLength comes out in pieces, each a line;
// JSON marks every piece but the last as partial, and the pieces join
// back into the line.
func TestLineWriterLongLine(t *testing.T) {
	long := strings.Repeat("0123456789", MaxLineLength/10*2+7)
	for _, jsonMode := range []bool{false, true} {
		var out bytes.Buffer
		lw := NewLineWriter(&out, LineFormat{Prefix: "> ", JSON: jsonMode, Program: "p", Stream: "stdout"})
		for i := 0; i < len(long); i += 1000 {
			lw.Write([]byte(long[i:min(i+1000, len(long))]))
		}
		lw.Write([]byte("\nnext\n"))
		lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
		if len(lines) != 4 {
			t.Fatalf("json=%v: %d lines, want 3 pieces and next", jsonMode, len(lines))
		}
		var joined strings.Builder
		for i, l := range lines[:3] {
			if !jsonMode {
				piece, ok := strings.CutPrefix(l, "> ")
				if !ok || len(piece) > MaxLineLength {
					t.Fatalf("piece %d: %.40q... (%d bytes)", i, l, len(l))
				}
				joined.WriteString(piece)
				continue
			}
			var jl jsonLine
			if err := json.Unmarshal([]byte(l), &jl); err != nil {
				t.Fatal(err)
			}
			if jl.Partial != (i < 2) {
				t.Errorf("piece %d: partial=%v", i, jl.Partial)
			}
			joined.WriteString(jl.Line)
		}
		if joined.String() != long {
			t.Errorf("json=%v: pieces do not join back into the line", jsonMode)
		}
	}
}

// The start of a line with no end is written after PartialLineFlush.
func TestLineWriterFlushesAStalePartialLine(t *testing.T) {
	dst := &lockedWriter{w: new(bytes.Buffer)}
	lw := NewLineWriter(dst, LineFormat{Prefix: "[x] "})
	lw.Write([]byte("Password: "))
	deadline := time.Now().Add(PartialLineFlush + 10*time.Second)
	for {
		dst.mu.Lock()
		got := dst.w.(*bytes.Buffer).String()
		dst.mu.Unlock()
		if got == "[x] Password: \n" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("got %q", got)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Through real ChildLogs sharing one file, as /dev/stdout is shared.
func TestLineWritersShareAChildLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.log")
	cl, err := OpenChild(ChildConfig{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	const programs, lines = 50, 100
	var wg sync.WaitGroup
	for p := range programs {
		wg.Go(func() {
			lw := NewLineWriter(cl, LineFormat{JSON: true, Program: fmt.Sprintf("p%d", p), Stream: "stdout"})
			writeLines(lw, p, lines, uint64(p)+100)
		})
	}
	wg.Wait()
	cl.Close()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		var jl jsonLine
		if err := json.Unmarshal([]byte(l), &jl); err != nil {
			t.Fatalf("not a JSON line: %.200q", l)
		}
		out = append(out, "["+jl.Program+"] "+jl.Line)
	}
	checkLines(t, out, programs, lines, regexp.MustCompile(`^\[p(\d+)\] p(\d+) line (\d+) x*$`))
}
