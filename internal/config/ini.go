package config

import (
	"fmt"
	"github.com/drover/drover/internal/pyrepr"
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The INI dialect is Python 3's RawConfigParser with
// inline_comment_prefixes=(';','#') and strict=False, which Supervisor uses.

const defaultSection = "DEFAULT"

// iniValue is one option's raw value and where it was (last) written.
type iniValue struct {
	Value string
	Pos   Pos
}

// here is the directory of the file the value came from: Supervisor
// substitutes %(here)s per file as it reads each one.
func (v *iniValue) here() string {
	abs, err := filepath.Abs(v.Pos.File)
	if err != nil {
		return filepath.Dir(v.Pos.File)
	}
	return filepath.Dir(abs)
}

type iniSection struct {
	Name string
	File string // file that first declared the section
	Line int
	Keys map[string]*iniValue
	// Order lists keys in first-insertion order (Python dict order).
	Order []string
}

func newSection(name, file string, line int) *iniSection {
	return &iniSection{Name: name, File: file, Line: line, Keys: map[string]*iniValue{}}
}

func (s *iniSection) set(key string, v *iniValue) {
	if _, ok := s.Keys[key]; !ok {
		s.Order = append(s.Order, key)
	}
	s.Keys[key] = v
}

// iniFile is the merged content of every file read, as RawConfigParser keeps it.
type iniFile struct {
	Sections map[string]*iniSection
	Order    []string // section names in first-declaration order, without DEFAULT
	Defaults *iniSection
	// only, when set, is the one section (besides DEFAULT) whose options
	// parse keeps: `supervisorctl` reads its section of a file that may
	// have thousands of program options. Every line is still read and
	// checked, so the errors are those of a whole parse.
	only string
}

func newINI() *iniFile {
	return &iniFile{Sections: map[string]*iniSection{}, Defaults: newSection(defaultSection, "", 0)}
}

func (f *iniFile) has(section string) bool {
	_, ok := f.Sections[section]
	return ok
}

// get looks the option up in the section, then in [DEFAULT].
func (f *iniFile) get(section, key string) (*iniValue, bool) {
	if s, ok := f.Sections[section]; ok {
		if v, ok := s.Keys[key]; ok {
			return v, true
		}
	}
	v, ok := f.Defaults.Keys[key]
	return v, ok
}

// options lists a section's keys followed by inherited [DEFAULT] keys.
func (f *iniFile) options(section string) []string {
	s := f.Sections[section]
	out := append([]string(nil), s.Order...)
	for _, k := range f.Defaults.Order {
		if _, ok := s.Keys[k]; !ok {
			out = append(out, k)
		}
	}
	return out
}

// splitLines splits like Python's universal-newline text mode, keeping the
// terminator (as "\n") so error messages can repr() the line.
func splitLines(text string) []string {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	text = strings.ReplaceAll(text, "\r", "\n")
	lines := strings.SplitAfter(text, "\n")
	if n := len(lines); n > 0 && lines[n-1] == "" {
		lines = lines[:n-1]
	}
	return lines
}

// commentStart returns the index where a comment begins, or -1. Python
// scans both prefixes in rounds (the k-th ';' and the k-th '#' together)
// and stops at the first round with a match preceded by whitespace; that
// round's smallest match wins, even if a later ';' qualifies earlier than
// a '#'. "a=x;y ;c #d" therefore keeps "x;y ;c".
func commentStart(line string) int {
	trimmed := strings.TrimSpace(line)
	if strings.HasPrefix(trimmed, ";") || strings.HasPrefix(trimmed, "#") {
		return 0
	}
	// The k-th match of each prefix still found; -1 before the first
	// round, len(line) once there is none left. No map: this runs for
	// every line of every file read, `supervisorctl` included.
	prefixes := [2]byte{';', '#'}
	next := [2]int{-1, -1}
	for next[0] < len(line) || next[1] < len(line) {
		best := -1
		for i, prefix := range prefixes {
			from := next[i]
			if from >= len(line) {
				continue
			}
			idx := strings.IndexByte(line[from+1:], prefix)
			if idx < 0 {
				next[i] = len(line)
				continue
			}
			idx += from + 1
			next[i] = idx
			if idx == 0 || precededBySpace(line, idx) {
				if best < 0 || idx < best {
					best = idx
				}
			}
		}
		if best >= 0 {
			return best
		}
	}
	return -1
}

func precededBySpace(line string, i int) bool {
	r, _ := utf8.DecodeLastRuneInString(line[:i])
	return unicode.IsSpace(r)
}

// parse reads one file's text into f, merging with what is already there.
func (f *iniFile) parse(text, fname string) error {
	var (
		cur         *iniSection
		skipped     iniSection // cur while skipping
		skipping    bool       // cur is a section whose options are not kept (f.only)
		optName     string
		lines       []string // pieces of the value being continued
		indentLevel = 0
		errLines    []string
		firstErr    int
	)
	flush := func() {
		if lines != nil {
			cur.Keys[optName].Value = strings.TrimRightFunc(strings.Join(lines, "\n"), unicode.IsSpace)
		}
		lines = nil
	}
	badLine := func(n int, line string) {
		if firstErr == 0 {
			firstErr = n
		}
		errLines = append(errLines, fmt.Sprintf("\n\t[line %2d]: %s", n, pyrepr.Str(line)))
	}
	for i, line := range splitLines(text) {
		lineno := i + 1
		cs := commentStart(line)
		value := line
		if cs >= 0 {
			value = line[:cs]
		}
		value = strings.TrimSpace(value)
		if value == "" {
			// Python keeps blank lines inside a multi-line value.
			if cs < 0 && cur != nil && optName != "" && lines != nil {
				lines = append(lines, "")
			}
			continue
		}
		indent := strings.IndexFunc(line, func(r rune) bool { return !unicode.IsSpace(r) })
		if cur != nil && optName != "" && indent > indentLevel {
			if !skipping {
				lines = append(lines, value)
			}
			continue
		}
		flush()
		indentLevel = indent
		if strings.HasPrefix(value, "[") {
			if end := strings.LastIndex(value, "]"); end > 1 {
				curName := value[1:end]
				optName = ""
				skipping = f.only != "" && curName != f.only && curName != defaultSection
				if skipping {
					cur = &skipped
				} else if curName == defaultSection {
					cur = f.Defaults
				} else if s, ok := f.Sections[curName]; ok {
					cur = s
				} else {
					cur = newSection(curName, fname, lineno)
					f.Sections[curName] = cur
					f.Order = append(f.Order, curName)
				}
				continue
			}
		}
		if cur == nil {
			return &Error{File: fname, Line: lineno, Msg: fmt.Sprintf(
				"File contains no section headers.\nfile: %s, line: %d\n%s", pyrepr.Str(fname), lineno, pyrepr.Str(line))}
		}
		d := strings.IndexAny(value, "=:")
		if d < 0 {
			badLine(lineno, line)
			continue
		}
		name := strings.ToLower(strings.TrimRightFunc(value[:d], unicode.IsSpace))
		if name == "" {
			badLine(lineno, line)
		}
		optName = name
		if skipping {
			continue
		}
		cur.set(name, &iniValue{Value: strings.TrimSpace(value[d+1:]), Pos: Pos{File: fname, Line: lineno}})
		lines = []string{strings.TrimSpace(value[d+1:])}
	}
	flush()
	if errLines != nil {
		return &Error{File: fname, Line: firstErr, Msg: "Source contains parsing errors: " + pyrepr.Str(fname) + strings.Join(errLines, "")}
	}
	return nil
}
