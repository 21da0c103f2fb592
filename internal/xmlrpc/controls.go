package xmlrpc

import (
	"bufio"
	"strings"
	"unicode/utf8"
)

// Python's xmlrpc (and so Supervisor) writes control characters such as ESC
// raw into strings, which strict XML parsers reject. Log output with colour
// codes is common, so the decoder accepts them: controlMapper maps each
// control byte XML forbids to a private-use rune before the XML parser sees
// it, and unmapControls maps those runes back in decoded strings.
const controlBase = 0xF700

func isForbiddenControl(c byte) bool {
	return c < 0x20 && c != '\t' && c != '\n' && c != '\r'
}

type controlMapper struct {
	r       *bufio.Reader
	pending []byte
}

func (m *controlMapper) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if len(m.pending) > 0 {
			c := copy(p[n:], m.pending)
			m.pending = m.pending[c:]
			n += c
			continue
		}
		if n > 0 && m.r.Buffered() == 0 {
			break // don't block for more input when we have some
		}
		c, err := m.r.ReadByte()
		if err != nil {
			return n, err
		}
		if isForbiddenControl(c) {
			m.pending = utf8.AppendRune(m.pending[:0], rune(controlBase+int(c)))
			continue
		}
		p[n] = c
		n++
	}
	return n, nil
}

func unmapControls(s string) string {
	if !strings.ContainsFunc(s, isMappedControl) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if isMappedControl(r) {
			return r - controlBase
		}
		return r
	}, s)
}

func isMappedControl(r rune) bool {
	return r >= controlBase && r < controlBase+0x20
}
