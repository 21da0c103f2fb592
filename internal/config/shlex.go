package config

import (
	"errors"
	"fmt"
	"github.com/drover/drover/internal/pyrepr"
	"strings"
)

// commandArgv splits a command the way Supervisor does at spawn time
// (Python shlex.split, POSIX mode, no comments). The error text is the one
// Supervisor reports when the spawn fails.
func commandArgv(command string) ([]string, string) {
	argv, err := shlexSplit(command)
	if err != nil {
		return nil, fmt.Sprintf("can't parse command %s: %s", pyrepr.Str(command), err)
	}
	if len(argv) == 0 {
		return nil, "command is empty"
	}
	return argv, ""
}

func shlexSplit(s string) ([]string, error) {
	var (
		out     []string
		cur     strings.Builder
		inToken bool
	)
	src := []rune(s)
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch {
		case isShlexSpace(c):
			if inToken {
				out = append(out, cur.String())
				cur.Reset()
				inToken = false
			}
		case c == '\\':
			i++
			if i >= len(src) {
				return nil, errors.New("No escaped character")
			}
			cur.WriteRune(src[i])
			inToken = true
		case c == '\'':
			inToken = true
			for i++; ; i++ {
				if i >= len(src) {
					return nil, errors.New("No closing quotation")
				}
				if src[i] == '\'' {
					break
				}
				cur.WriteRune(src[i])
			}
		case c == '"':
			inToken = true
			for i++; ; i++ {
				if i >= len(src) {
					return nil, errors.New("No closing quotation")
				}
				if src[i] == '"' {
					break
				}
				if src[i] == '\\' {
					i++
					if i >= len(src) {
						return nil, errors.New("No escaped character")
					}
					if src[i] != '"' && src[i] != '\\' {
						cur.WriteRune('\\')
					}
				}
				cur.WriteRune(src[i])
			}
		default:
			cur.WriteRune(c)
			inToken = true
		}
	}
	if inToken {
		out = append(out, cur.String())
	}
	return out, nil
}
