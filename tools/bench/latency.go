package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// The line-latency scenario: the chatty load (ChattyProgs programs ×
// ChattyRate lines/s), each line stamped with the wall-clock time of its
// write(2); the tool tails latencyTailed of the log files every
// latencyPoll and takes, for each line, the time from its stamp until the
// tool saw it in the file. The poll adds up to latencyPoll to every line,
// to both daemons alike.
const (
	cmdStamped    = "stamped"
	latencyTailed = 10
	latencyPoll   = time.Millisecond
)

func latencyScenario(sz sizes, g func(string, float64) goal) scenario {
	return scenario{Name: fmt.Sprintf("line latency %d × %d lines/s × %d s", sz.ChattyProgs, sz.ChattyRate, sz.ChattySecs), Group: "latency",
		Measures: []measureDef{
			{"p50", "write → in the log file, median", "ms", goal{}},
			{"p99", "write → in the log file, p99", "ms", g("<=", 5)},
			{"lost", "lines lost (tailed files)", "lines", g("==", 0)},
		}, run: runLatency}
}

// stampedLine is a chatty line carrying the time of its write.
func stampedLine(name string, at time.Time) []byte {
	line := fmt.Appendf(nil, "%s %019d ", name, at.UnixNano())
	for len(line) < chattyLineLen-1 {
		line = append(line, '.')
	}
	return append(line[:chattyLineLen-1], '\n')
}

// stampWriter replaces each line the chatty writer hands it with a
// stamped one of the same length, written at once.
type stampWriter struct {
	w    io.Writer
	name string
}

func (s stampWriter) Write(p []byte) (int, error) {
	if _, err := s.w.Write(stampedLine(s.name, time.Now())); err != nil {
		return 0, err
	}
	return len(p), nil
}

// chattyOut is where the chatty sub-command cmd writes: its stdout, with
// stamped lines for cmdStamped.
func chattyOut(cmd, name string) io.Writer {
	if cmd == cmdStamped {
		return stampWriter{os.Stdout, name}
	}
	return os.Stdout
}

// chattyPrograms configures the chatty load: ChattyProgs programs running
// the chatty sub-command cmd, each logging to its own file, which it
// returns too.
func chattyPrograms(e *benchEnv, dir, cmd string) (benchConfig, []string) {
	sz := e.sizes
	cfg := benchConfig{Dir: dir}
	var bases []string
	for i := range sz.ChattyProgs {
		name := programName(i)
		base := filepath.Join(cfg.logDir(), name+".log")
		bases = append(bases, base)
		cfg.Programs = append(cfg.Programs, program{Name: name,
			Command: fmt.Sprintf("%s %s -name %s -rate %d -secs %d -tick %v", e.self, cmd, name,
				sz.ChattyRate, sz.ChattySecs, sz.ChattyTick),
			Startsecs: 1, Autorestart: "false", StdoutLogfile: base, StdoutMaxbytes: "50MB"})
	}
	return cfg, bases
}

// tail reads what a log file gained since the last look, whole lines only.
type tail struct {
	path string
	f    *os.File
	rest []byte
}

// lines returns the complete lines appended since the last call.
func (t *tail) lines(buf []byte) ([][]byte, error) {
	if t.f == nil {
		f, err := os.Open(t.path)
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil // not created yet
		}
		if err != nil {
			return nil, err
		}
		t.f = f
	}
	var out [][]byte
	for {
		n, err := t.f.Read(buf)
		t.rest = append(t.rest, buf[:n]...)
		if n < len(buf) || err != nil {
			break
		}
	}
	for {
		i := bytes.IndexByte(t.rest, '\n')
		if i < 0 {
			return out, nil
		}
		out = append(out, t.rest[:i])
		t.rest = t.rest[i+1:]
	}
}

func runLatency(ctx context.Context, e *benchEnv, k daemonKind, dir string) (map[string]float64, error) {
	sz := e.sizes
	cfg, bases := chattyPrograms(e, dir, cmdStamped)
	var tails []*tail
	for _, base := range bases[:min(latencyTailed, len(bases))] {
		tails = append(tails, &tail{path: base})
	}
	d, err := startWithPrograms(ctx, k, cfg)
	if err != nil {
		return nil, err
	}
	defer d.kill()
	defer func() {
		for _, t := range tails {
			if t.f != nil {
				t.f.Close()
			}
		}
	}()
	perProgram := sz.ChattyRate * sz.ChattySecs
	want := perProgram * len(tails)
	// The call answers once every program is spawned, seconds after the
	// first ones began to write: the tailing starts now, or those seconds
	// would count as latency.
	started := make(chan error, 1)
	go func() {
		_, err := d.rpc.Call(ctx, "supervisor.startAllProcesses", false)
		started <- err
	}()
	limit := time.Since(d.launched) + time.Duration(sz.ChattySecs+30)*time.Second
	lat := make([]float64, 0, want)
	buf := make([]byte, 64<<10)
	for len(lat) < want && stillGoing(ctx, d, limit) == nil {
		time.Sleep(latencyPoll)
		for _, t := range tails {
			lines, err := t.lines(buf)
			if err != nil {
				return nil, err
			}
			now := time.Now().UnixNano()
			for _, l := range lines {
				f := bytes.Fields(l)
				if len(f) < 2 {
					continue
				}
				if at, err := strconv.ParseInt(string(f[1]), 10, 64); err == nil {
					lat = append(lat, float64(now-at)/1e6)
				}
			}
		}
	}
	select {
	case err := <-started:
		if err != nil {
			return nil, err
		}
	default: // still starting the last programs
	}
	if len(lat) == 0 {
		return nil, errors.New("line latency: no line reached the logs")
	}
	return map[string]float64{"p50": median(lat), "p99": percentile(lat, 99),
		"lost": float64(want - len(lat))}, nil
}
