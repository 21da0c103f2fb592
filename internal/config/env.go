package config

import (
	"errors"
	"fmt"
	"strings"
)

// parseEnvironment is Supervisor 4.2's dict_of_key_value_pairs: a Python
// shlex in non-POSIX mode (wordchars extended by "/.+-():") whose tokens are
// taken four at a time as KEY "=" VALUE <separator>. Quotes stay part of a
// token and are stripped from the value's ends only; there are no escapes.
// Keys repeat → later value wins, first position kept (Python dict).
func parseEnvironment(raw string) ([]EnvVar, error) {
	tokens, err := envTokens(raw)
	if err != nil {
		return nil, err
	}
	var out []EnvVar
	index := map[string]int{}
	for i := 0; i < len(tokens); i += 4 {
		if len(tokens)-i < 3 || tokens[i+1] != "=" {
			return nil, fmt.Errorf("Unexpected end of key/value pairs in value '%s'", raw)
		}
		key, val := tokens[i], strings.Trim(tokens[i+2], `'"`)
		if j, ok := index[key]; ok {
			out[j].Value = val
			continue
		}
		index[key] = len(out)
		out = append(out, EnvVar{Key: key, Value: val})
	}
	return out, nil
}

func isEnvWordChar(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
		strings.ContainsRune("_/.+-():", r)
}

func isShlexSpace(r rune) bool { return strings.ContainsRune(" \t\r\n", r) }

// envTokens is shlex.shlex(raw) (non-POSIX) iterated to its end.
func envTokens(raw string) ([]string, error) {
	src := []rune(raw)
	var tokens []string
	i := 0
	// skipLine consumes through the next newline, like shlex's comment handling.
	skipLine := func() {
		for i < len(src) && src[i] != '\n' {
			i++
		}
		if i < len(src) {
			i++
		}
	}
	for i < len(src) {
		c := src[i]
		i++
		switch {
		case isShlexSpace(c):
		case c == '#':
			skipLine()
		case c == '\'' || c == '"':
			tok := []rune{c}
			for {
				if i >= len(src) {
					return nil, errors.New("No closing quotation")
				}
				d := src[i]
				i++
				tok = append(tok, d)
				if d == c {
					break
				}
			}
			tokens = append(tokens, string(tok))
		case isEnvWordChar(c):
			tok := []rune{c}
			for i < len(src) {
				d := src[i]
				if d == '#' {
					// A comment inside a word is skipped and the word continues.
					i++
					skipLine()
					continue
				}
				if !isEnvWordChar(d) && d != '\'' && d != '"' {
					break
				}
				tok = append(tok, d)
				i++
			}
			tokens = append(tokens, string(tok))
		default:
			tokens = append(tokens, string(c))
		}
	}
	return tokens, nil
}
