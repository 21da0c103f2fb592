package config

import (
	"fmt"
	"slices"
	"strings"

	"github.com/drover/drover/internal/pyrepr"
)

// Drover's container options (docs/containers.md). Supervisor ignores
// unknown keys, so a file using them still runs under Supervisor.
const (
	// [supervisord]
	optSubreaper       = "subreaper"
	optExitWhenAllDone = "exit_when_all_done"
	// program sections
	optEssential       = "essential"
	optStdoutLogPrefix = "stdout_log_prefix"
	optStderrLogPrefix = "stderr_log_prefix"
	optStdoutLogFormat = "stdout_log_format"
	optStderrLogFormat = "stderr_log_format"
)

// containerSupervisord reads the [supervisord] container options.
func (l *loader) containerSupervisord(r *reader) {
	s := &l.cfg.Supervisord
	s.Subreaper = read(r, optSubreaper, "false", parseBool)
	s.ExitWhenAllDone = read(r, optExitWhenAllDone, "false", parseBool)
}

// container reads the container options of every process (spares
// included) from its extension keys.
func (l *loader) container(groups []*Group) error {
	for _, g := range groups {
		for _, p := range append(slices.Clone(g.Processes), g.Spares...) {
			if err := l.containerProcess(sectionPrefix(g.Kind)+p.ProgramName, p); err != nil {
				return err
			}
		}
	}
	return nil
}

func (l *loader) containerProcess(section string, p *Process) error {
	if v, ok := p.Extra[optEssential]; ok {
		b, err := parseBool(strings.TrimSpace(v))
		if err != nil {
			return l.optErr(section, optEssential, err)
		}
		p.Essential = b
	}
	channels := []struct {
		log            *ChildLog
		prefix, format string
	}{
		{&p.Stdout, optStdoutLogPrefix, optStdoutLogFormat},
		{&p.Stderr, optStderrLogPrefix, optStderrLogFormat},
	}
	for _, c := range channels {
		if v, ok := p.Extra[c.prefix]; ok {
			c.log.LinePrefix = unquotePrefix(v)
		}
		if v, ok := p.Extra[c.format]; ok {
			switch f := strings.ToLower(strings.TrimSpace(v)); f {
			case "text", "json":
				c.log.JSONLines = f == "json"
			default:
				return l.optErr(section, c.format, fmt.Errorf("%s must be text or json, not %s", c.format, pyrepr.Str(v)))
			}
		}
	}
	return nil
}

// unquotePrefix removes one pair of double quotes around a prefix: the
// file format strips trailing spaces, so `"[%(program_name)s] "` is how a
// prefix ends with one.
func unquotePrefix(v string) string {
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		return v[1 : len(v)-1]
	}
	return v
}
