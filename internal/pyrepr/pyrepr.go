// Package pyrepr quotes strings the way Python's repr() quotes a str.
// Supervisor embeds repr() output in many messages (config errors, spawn
// errors, command-line errors), and tools match on those texts.
package pyrepr

import (
	"fmt"
	"strings"
)

// Str returns repr(s): single quotes unless s contains a single quote and no
// double quote; backslash, the quote, \n, \r, \t and other control
// characters escaped.
func Str(s string) string {
	q := '\''
	if strings.ContainsRune(s, '\'') && !strings.ContainsRune(s, '"') {
		q = '"'
	}
	var b strings.Builder
	b.WriteRune(q)
	for _, r := range s {
		switch {
		case r == '\\' || r == q:
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteRune(q)
	return b.String()
}
