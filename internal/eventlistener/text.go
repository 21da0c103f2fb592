package eventlistener

import (
	"strings"
	"unicode/utf8"

	"github.com/drover/drover/internal/pyrepr"
)

// asString is Supervisor's rendering of child output in a payload: the
// UTF-8 text, or "Undecodable: b'...'" when it is not valid UTF-8.
func asString(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	return "Undecodable: " + pyrepr.Bytes(b)
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
