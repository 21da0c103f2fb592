package logs

import (
	"bytes"
	"encoding/json"
	"io"
	"sync"
	"time"
)

// Line framing for a log shared by many programs, typically a container's
// /dev/stdout: each line of one channel is written with a prefix
// (stdout_log_prefix) or as a JSON object (stdout_log_format=json), whole,
// never merged with another program's line.
const (
	// MaxLineLength bounds a line held back while waiting for its end: a
	// longer line is written in pieces of this size, each framed as a line
	// (a JSON piece carries "partial":true, as Docker splits at 16 KiB).
	MaxLineLength = 16 << 10
	// PartialLineFlush is how long the start of a line waits for its end
	// before it is written as it stands: a prompt, or the last words of a
	// program that crashed without a newline, still reach the log.
	PartialLineFlush = 2 * time.Second
	// atomicWrite is PIPE_BUF: the kernel writes at most this much to a pipe
	// in one piece, so framed lines are written in batches no larger (a
	// longer line alone), never split by another writer of the same pipe.
	atomicWrite = 4096
)

// LineFormat says how a LineWriter frames each line.
type LineFormat struct {
	Prefix  string // written before each line (text mode)
	JSON    bool   // {"time","program","stream","line"} objects instead
	Program string // the process name, for JSON
	Stream  string // "stdout" or "stderr", for JSON
}

// LineWriter frames the output of one channel of one process into lines
// for dst, an io.Writer safe for concurrent use (a shared ChildLog). It is
// safe for concurrent use.
type LineWriter struct {
	dst    io.Writer
	format LineFormat
	now    func() time.Time

	mu      sync.Mutex
	partial []byte      // the start of a line whose end has not come yet
	timer   *time.Timer // writes partial after PartialLineFlush; nil until needed
}

// NewLineWriter returns a LineWriter framing lines for dst.
func NewLineWriter(dst io.Writer, f LineFormat) *LineWriter {
	return &LineWriter{dst: dst, format: f, now: time.Now}
}

// Write frames every line p completes and holds back the start of the next.
// It reports len(p) unless dst fails.
func (w *LineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var b batch
	for data := p; len(data) > 0; {
		i := bytes.IndexByte(data, '\n')
		end := i
		if i < 0 {
			end = len(data)
		}
		if room := MaxLineLength - len(w.partial); end > room {
			w.partial = append(w.partial, data[:room]...)
			b.add(w, w.frame(w.partial, true))
			w.partial, data = w.partial[:0], data[room:]
			continue
		}
		w.partial = append(w.partial, data[:end]...)
		if i < 0 {
			break
		}
		b.add(w, w.frame(w.partial, false))
		w.partial, data = w.partial[:0], data[i+1:]
	}
	b.flush(w)
	if len(w.partial) > 0 {
		w.armFlush()
	}
	if b.err != nil {
		return 0, b.err
	}
	return len(p), nil
}

// Flush writes a held-back line start as a line of its own.
func (w *LineWriter) Flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.partial) == 0 {
		return
	}
	var b batch
	b.add(w, w.frame(w.partial, false))
	w.partial = w.partial[:0]
	b.flush(w)
}

func (w *LineWriter) armFlush() {
	if w.timer == nil {
		w.timer = time.AfterFunc(PartialLineFlush, w.Flush)
		return
	}
	w.timer.Reset(PartialLineFlush)
}

// jsonLine is one line in JSON mode.
type jsonLine struct {
	Time    string `json:"time"`
	Program string `json:"program"`
	Stream  string `json:"stream"`
	Line    string `json:"line"`
	Partial bool   `json:"partial,omitempty"`
}

// frame returns line (without its newline) framed, newline included.
func (w *LineWriter) frame(line []byte, partial bool) []byte {
	if !w.format.JSON {
		out := make([]byte, 0, len(w.format.Prefix)+len(line)+1)
		out = append(out, w.format.Prefix...)
		out = append(out, line...)
		return append(out, '\n')
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	// Invalid UTF-8 becomes U+FFFD: the object stays valid JSON.
	_ = enc.Encode(jsonLine{
		Time:    w.now().UTC().Format("2006-01-02T15:04:05.000000Z"),
		Program: w.format.Program, Stream: w.format.Stream,
		Line: string(line), Partial: partial,
	})
	return buf.Bytes() // Encode ends it with a newline
}

// batch gathers framed lines into writes of at most atomicWrite bytes.
type batch struct {
	buf []byte
	err error
}

func (b *batch) add(w *LineWriter, framed []byte) {
	if len(b.buf) > 0 && len(b.buf)+len(framed) > atomicWrite {
		b.flush(w)
	}
	b.buf = append(b.buf, framed...)
}

func (b *batch) flush(w *LineWriter) {
	if len(b.buf) == 0 {
		return
	}
	if _, err := w.dst.Write(b.buf); err != nil && b.err == nil {
		b.err = err
	}
	b.buf = b.buf[:0]
}
