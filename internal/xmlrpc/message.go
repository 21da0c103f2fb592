package xmlrpc

import (
	"io"
	"math/bits"
	"strconv"
	"sync"
)

// Message is an encoded XML-RPC message kept in chunks, which double from
// firstChunk up to maxChunk bytes: a large answer (getAllProcessInfo of
// 2,000 programs is about 6 MB) is not copied each time it grows, nor
// again to be sent, so its encoding needs about its own size in memory,
// not four times that; a small one takes one small chunk. Release hands
// the chunks back for the next message: the daemon answers `status` over
// and over with messages of the same size.
//
// WriteResponse's messages keep at most maxHeld bytes: past that one
// drops its chunks and only counts, and another sends each full chunk to
// its sink and fills it again.
type Message struct {
	chunks [][]byte // the filled chunks, in order
	cur    []byte   // the chunk being filled, after them
	n      int

	maxHeld  int       // if not 0, past this many bytes the chunks are dropped and counting begins
	counting bool      // only n grows: no byte is kept
	sink     io.Writer // a full chunk is written here and reused
	sinkErr  error     // the sink's first error; nothing more is written after it
}

const (
	firstChunk = 4 << 10
	chunkSizes = 5 // firstChunk << 0 … 4
	maxChunk   = firstChunk << (chunkSizes - 1)
)

// chunkPools keep released chunks by size: firstChunk << i.
var chunkPools [chunkSizes]sync.Pool

// newChunk returns an empty chunk of capacity size (a power of two from
// firstChunk to maxChunk), a released one if there is one.
func newChunk(size int) []byte {
	if p, ok := chunkPools[bits.Len(uint(size/firstChunk))-1].Get().(*[]byte); ok {
		return (*p)[:0]
	}
	return make([]byte, 0, size)
}

// Len is the message's size in bytes.
func (m *Message) Len() int { return m.n }

// WriteTo writes the message to w.
func (m *Message) WriteTo(w io.Writer) (int64, error) {
	var n int64
	for _, c := range m.chunks {
		k, err := w.Write(c)
		n += int64(k)
		if err != nil {
			return n, err
		}
	}
	if len(m.cur) > 0 {
		k, err := w.Write(m.cur)
		n += int64(k)
		return n, err
	}
	return n, nil
}

// Release empties the message and keeps its memory for the next ones;
// nothing written from it may be held past this call.
func (m *Message) Release() {
	m.releaseChunks()
	*m = Message{}
}

func (m *Message) releaseChunks() {
	for _, c := range append(m.chunks, m.cur) {
		if cap(c) >= firstChunk {
			chunkPools[bits.Len(uint(cap(c)/firstChunk))-1].Put(&c)
		}
	}
	m.chunks, m.cur = nil, nil
}

// writeDecimal appends n in decimal without allocating: in place when the
// current chunk has room for any int64, else through Write.
func (m *Message) writeDecimal(n int64) {
	if cap(m.cur)-len(m.cur) >= 20 {
		k := len(m.cur)
		m.cur = strconv.AppendInt(m.cur, n, 10)
		m.n += len(m.cur) - k
		return
	}
	var digits [20]byte
	m.Write(strconv.AppendInt(digits[:0], n, 10))
}

// WriteString appends s.
func (m *Message) WriteString(s string) { appendText(m, s) }

// Write appends p; it never fails.
func (m *Message) Write(p []byte) (int, error) {
	appendText(m, p)
	return len(p), nil
}

// WriteByte appends c; it never fails.
func (m *Message) WriteByte(c byte) error {
	if len(m.cur) == cap(m.cur) {
		m.grow()
		if m.counting {
			m.n++
			return nil
		}
	}
	m.cur = append(m.cur, c)
	m.n++
	return nil
}

// String returns the whole message.
func (m *Message) String() string {
	b := make([]byte, 0, m.n)
	for _, c := range m.chunks {
		b = append(b, c...)
	}
	return string(append(b, m.cur...))
}

// appendText appends s to the current chunk, or across chunks when it
// does not fit.
func appendText[S string | []byte](m *Message, s S) {
	if len(s) <= cap(m.cur)-len(m.cur) {
		m.cur = append(m.cur, s...)
		m.n += len(s)
		return
	}
	appendChunked(m, s)
}

func appendChunked[S string | []byte](m *Message, s S) {
	m.n += len(s)
	if m.counting {
		return
	}
	for {
		k := min(len(s), cap(m.cur)-len(m.cur))
		m.cur = append(m.cur, s[:k]...)
		s = s[k:]
		if len(s) == 0 {
			return
		}
		if m.grow(); m.counting {
			return
		}
	}
}

// grow starts a new chunk, twice the last one's size up to maxChunk; with
// a sink, it sends the full chunk there and empties it; past maxHeld it
// drops the chunks and makes the message count only.
func (m *Message) grow() {
	switch {
	case m.counting:
	case m.sink != nil:
		m.flush()
		if cap(m.cur) == 0 {
			m.cur = newChunk(maxChunk)
		}
	case m.maxHeld > 0 && m.n > m.maxHeld:
		m.releaseChunks()
		m.counting = true
	case cap(m.cur) == 0:
		m.cur = newChunk(firstChunk)
	default:
		m.chunks = append(m.chunks, m.cur)
		m.cur = newChunk(min(2*cap(m.cur), maxChunk))
	}
}

// flush writes the current chunk to the sink and empties it.
func (m *Message) flush() {
	if len(m.cur) > 0 && m.sinkErr == nil {
		_, m.sinkErr = m.sink.Write(m.cur)
	}
	m.cur = m.cur[:0]
}
