package eventlistener

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// pyBytesRepr is Python's repr of a bytes object, e.g. b'READY\n'.
func pyBytesRepr(b []byte) string {
	quote := byte('\'')
	if strings.IndexByte(string(b), '\'') >= 0 && strings.IndexByte(string(b), '"') < 0 {
		quote = '"'
	}
	var sb strings.Builder
	sb.WriteString("b")
	sb.WriteByte(quote)
	for _, c := range b {
		switch {
		case c == quote || c == '\\':
			sb.WriteByte('\\')
			sb.WriteByte(c)
		case c == '\t':
			sb.WriteString(`\t`)
		case c == '\n':
			sb.WriteString(`\n`)
		case c == '\r':
			sb.WriteString(`\r`)
		case c < 0x20 || c >= 0x7f:
			fmt.Fprintf(&sb, `\x%02x`, c)
		default:
			sb.WriteByte(c)
		}
	}
	sb.WriteByte(quote)
	return sb.String()
}

// pyStrRepr is Python's repr of a printable str, e.g. 'listener'.
func pyStrRepr(s string) string {
	quote := "'"
	if strings.Contains(s, "'") && !strings.Contains(s, `"`) {
		quote = `"`
	}
	s = strings.ReplaceAll(s, `\`, `\\`)
	if quote == "'" {
		s = strings.ReplaceAll(s, "'", `\'`)
	}
	return quote + s + quote
}

// asString is Supervisor's rendering of child output in a payload: the
// UTF-8 text, or "Undecodable: b'...'" when it is not valid UTF-8.
func asString(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	return "Undecodable: " + pyBytesRepr(b)
}

// parseResultLength parses the length of a RESULT line as Python's int()
// does for the non-negative values: surrounding whitespace, an optional
// '+', and '_' between digits are accepted.
func parseResultLength(b []byte) (int, bool) {
	s := strings.Trim(string(b), " \t\n\r\v\f")
	s = strings.TrimPrefix(s, "+")
	if s == "" || s[0] == '_' || s[len(s)-1] == '_' || strings.Contains(s, "__") {
		return 0, false
	}
	n := 0
	for _, c := range s {
		if c == '_' {
			continue
		}
		if c < '0' || c > '9' {
			return 0, false
		}
		if n > (1<<62)/10 {
			n = 1 << 62 // more than any listener will send: wait forever, as Supervisor does
			continue
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}
