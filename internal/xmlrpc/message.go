package xmlrpc

import "io"

// Message is an encoded XML-RPC message kept in chunks, which double from
// firstChunk up to maxChunk bytes: a large answer (getAllProcessInfo of
// 2,000 programs is about 6 MB) is not copied each time it grows, nor
// again to be sent, so its encoding needs about its own size in memory,
// not four times that; a small one takes one small chunk.
type Message struct {
	chunks [][]byte
	n      int
}

const (
	firstChunk = 4 << 10
	maxChunk   = 64 << 10
)

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
	return n, nil
}

// WriteString appends s.
func (m *Message) WriteString(s string) { appendChunked(m, s) }

// Write appends p; it never fails.
func (m *Message) Write(p []byte) (int, error) {
	appendChunked(m, p)
	return len(p), nil
}

// WriteByte appends c; it never fails.
func (m *Message) WriteByte(c byte) error {
	m.n++
	t := m.tail()
	m.chunks[len(m.chunks)-1] = append(t, c)
	return nil
}

// String returns the whole message.
func (m *Message) String() string {
	b := make([]byte, 0, m.n)
	for _, c := range m.chunks {
		b = append(b, c...)
	}
	return string(b)
}

func appendChunked[S string | []byte](m *Message, s S) {
	m.n += len(s)
	for len(s) > 0 {
		c := m.tail()
		k := min(len(s), cap(c)-len(c))
		m.chunks[len(m.chunks)-1] = append(c, s[:k]...)
		s = s[k:]
	}
}

// tail is the last chunk, a new one if the last is full.
func (m *Message) tail() []byte {
	if len(m.chunks) == 0 {
		m.chunks = append(m.chunks, make([]byte, 0, firstChunk))
	}
	if last := m.chunks[len(m.chunks)-1]; len(last) == cap(last) {
		m.chunks = append(m.chunks, make([]byte, 0, min(2*cap(last), maxChunk)))
	}
	return m.chunks[len(m.chunks)-1]
}
