package supervisor

import (
	"io"

	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/logs"
)

// lineWriter returns the writer of one output channel ("stdout" or
// "stderr") of pc into l: l itself, or, with a line prefix or JSON lines
// (*_log_prefix, *_log_format=json), a LineWriter that p keeps so that its
// last unended line is written before the log is released.
func (p *Process) lineWriter(pc *config.Process, channel string, lc config.ChildLog, l *logs.ChildLog) io.Writer {
	if l == nil || lc.LinePrefix == "" && !lc.JSONLines {
		return writer(l)
	}
	lw := logs.NewLineWriter(l, logs.LineFormat{Prefix: lc.LinePrefix, JSON: lc.JSONLines, Program: pc.Name, Stream: channel})
	p.lines = append(p.lines, lw)
	return lw
}

// releaseProcessLogs writes what p's line writers hold back, then drops
// p's use of its logs.
func (s *Supervisor) releaseProcessLogs(p *Process) {
	for _, lw := range p.lines {
		lw.Flush()
	}
	s.releaseLog(p.stdout)
	s.releaseLog(p.stderr)
}
