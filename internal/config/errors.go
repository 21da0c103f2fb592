package config

import (
	"fmt"
	"github.com/drover/drover/internal/pyrepr"
	"strings"
)

// Error is a configuration error. Msg carries Supervisor's wording; the
// location fields say where the offending value was written (zero when the
// error concerns the file as a whole).
type Error struct {
	File    string
	Line    int
	Section string
	Option  string
	Msg     string

	// supervisorSuffix is what Supervisor itself appends to Msg for
	// errors inside a program-type section.
	supervisorSuffix string
}

// SupervisorText is the message exactly as Supervisor 4.2.5 prints it after
// "Error: " (and returns in a CANT_REREAD fault): Msg, plus
// " in section 'program:x' (file: '...')" for program-section errors.
func (e *Error) SupervisorText() string {
	return e.Msg + e.supervisorSuffix
}

// Error renders Msg followed by the location, Supervisor-style:
// `<msg> in section 'program:x' (file: '/etc/x.conf', line 3, option 'command')`.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Msg)
	if e.Section != "" {
		fmt.Fprintf(&b, " in section %s", pyrepr.Str(e.Section))
	}
	var loc []string
	if e.File != "" {
		loc = append(loc, "file: "+pyrepr.Str(e.File))
	}
	if e.Line > 0 {
		loc = append(loc, fmt.Sprintf("line %d", e.Line))
	}
	if e.Option != "" {
		loc = append(loc, "option "+pyrepr.Str(e.Option))
	}
	if len(loc) > 0 {
		b.WriteString(" (" + strings.Join(loc, ", ") + ")")
	}
	return b.String()
}
