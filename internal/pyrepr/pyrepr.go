// Package pyrepr renders values as Python does where Supervisor's texts
// embed them, and tools match on those texts: repr() of a str or a bytes,
// str() of an OSError, urllib's quote.
package pyrepr

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"unicode"
	"unicode/utf8"
)

// Str returns repr(s): single quotes unless s contains a single quote and no
// double quote; backslash, the quote, \n, \r, \t and other control
// characters escaped.
func Str(s string) string { return quote("", s, false) }

// Bytes returns repr(b) of a bytes object, e.g. b'READY\n': as Str, and
// every byte outside printable ASCII as \xNN.
func Bytes(b []byte) string { return quote("b", string(b), true) }

func quote(prefix, s string, asBytes bool) string {
	q := byte('\'')
	if strings.IndexByte(s, '\'') >= 0 && strings.IndexByte(s, '"') < 0 {
		q = '"'
	}
	var b strings.Builder
	b.WriteString(prefix)
	b.WriteByte(q)
	for i := 0; i < len(s); {
		r, n := rune(s[i]), 1
		if !asBytes {
			r, n = utf8.DecodeRuneInString(s[i:])
		}
		i += n
		switch {
		case r == '\\' || r == rune(q):
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f || asBytes && r > 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte(q)
	return b.String()
}

// OSError renders err as Python prints the OSError behind it:
// "[Errno 98] Address already in use", with ": '<path>'" for a path error;
// an error without an errno is its own text.
func OSError(err error) string {
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return err.Error()
	}
	msg := errno.Error()
	r, n := utf8.DecodeRuneInString(msg)
	s := fmt.Sprintf("[Errno %d] %c%s", int(errno), unicode.ToUpper(r), msg[n:])
	if pe, ok := errors.AsType[*os.PathError](err); ok {
		s += ": " + Str(pe.Path)
	}
	return s
}

// Quote is urllib.parse.quote(s) with its default safe "/".
func Quote(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("_.-~/", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}
