package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// The line-latency scenario: the chatty rate (ChattyProgs programs ×
// ChattyRate lines/s), each line stamped with the wall-clock time of its
// write(2); the tool tails latencyTailed of the log files every
// latencyPoll and takes, for each line, the time from its stamp until the
// tool saw it in the file. The poll adds up to latencyPoll to every line,
// to both daemons alike.
//
// The programs are `cat` of a FIFO each, which the tool itself writes,
// a tick's lines in one write(2): 100 writers of the chatty scenario (Go
// processes waking every 10 ms) alone needed 2.9 CPUs on the 2-CPU
// machine, so the lines waited for a CPU, not for the daemon. The hop
// through cat (a wake-up, a read and a write) is in every line's time.
//
// After each daemon, the same lines go the same way with no daemon: each
// cat's stdout is its log file. That floor's p99 is what this machine's
// scheduling, the feeding and the tailing give now; the goal is
// on what a daemon adds to it.
const (
	latencyTailed = 10
	latencyPoll   = time.Millisecond
)

func latencyScenario(sz sizes, g func(string, float64) goal) scenario {
	return scenario{Name: fmt.Sprintf("line latency %d × %d lines/s × %d s", sz.ChattyProgs, sz.ChattyRate, sz.ChattySecs), Group: "latency",
		Measures: []measureDef{
			{"p50", "write → in the log file, median", "ms", goal{}},
			{"p99", "write → in the log file, p99", "ms", goal{}},
			{"floor_p50", "floor: cat >> file, no daemon, median", "ms", goal{}},
			{"floor_p99", "floor: cat >> file, no daemon, p99", "ms", goal{}},
			{"added_p99", "p99 added by the daemon (p99 − floor p99)", "ms", g("<=", 5)},
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

// stampWriter replaces each line the chatty writer hands it (a tick's
// lines at once) with a stamped one of the same length, all stamped with
// the time of their one write(2).
type stampWriter struct {
	w    io.Writer
	name string
}

func (s stampWriter) Write(p []byte) (int, error) {
	stamped := make([]byte, 0, len(p))
	now := time.Now()
	for range bytes.Count(p, []byte{'\n'}) {
		stamped = append(stamped, stampedLine(s.name, now)...)
	}
	if _, err := s.w.Write(stamped); err != nil {
		return 0, err
	}
	return len(p), nil
}

// latencyPrograms configures the latency load: ChattyProgs programs, each
// `cat` of its own FIFO (made here) into its own log file; it returns the
// FIFOs and the log files.
func latencyPrograms(e *benchEnv, dir string) (cfg benchConfig, fifos, bases []string, err error) {
	cfg = benchConfig{Dir: dir}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return cfg, nil, nil, fmt.Errorf("line latency: %w", err)
	}
	for i := range e.sizes.ChattyProgs {
		name := programName(i)
		fifo := filepath.Join(dir, name+".fifo")
		if err := syscall.Mkfifo(fifo, 0o600); err != nil {
			return cfg, nil, nil, fmt.Errorf("line latency: %w", err)
		}
		base := filepath.Join(cfg.logDir(), name+".log")
		fifos, bases = append(fifos, fifo), append(bases, base)
		cfg.Programs = append(cfg.Programs, program{Name: name, Command: "cat " + fifo,
			Startsecs: 1, Autorestart: "false", StdoutLogfile: base, StdoutMaxbytes: "50MB"})
	}
	return cfg, fifos, bases, nil
}

// feedFIFO writes the chatty rate of stamped lines of name into fifo once
// its cat opens it, then closes it, which ends the cat.
func feedFIFO(ctx context.Context, sz sizes, fifo, name string) error {
	opened := make(chan struct{})
	go func() { // an open for writing waits for the reader; ctx ends the wait
		select {
		case <-ctx.Done():
			if f, err := os.OpenFile(fifo, os.O_RDONLY|syscall.O_NONBLOCK, 0); err == nil {
				f.Close()
			}
		case <-opened:
		}
	}()
	f, err := os.OpenFile(fifo, os.O_WRONLY, 0)
	close(opened)
	if err != nil {
		return err
	}
	defer f.Close()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return chatty(stampWriter{f, name}, name, sz.ChattyRate, sz.ChattySecs, sz.ChattyTick, true)
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
	cfg, fifos, bases, err := latencyPrograms(e, dir)
	if err != nil {
		return nil, err
	}
	d, err := startWithPrograms(ctx, k, cfg)
	if err != nil {
		return nil, err
	}
	defer d.kill()
	// The call answers once every program is spawned, seconds after the
	// first ones began to write: the tailing starts now, or those seconds
	// would count as latency.
	started := make(chan error, 1)
	go func() {
		_, err := d.rpc.Call(ctx, "supervisor.startAllProcesses", false)
		started <- err
	}()
	limit := time.Since(d.launched) + time.Duration(sz.ChattySecs+30)*time.Second
	lat, err := feedAndTail(ctx, sz, fifos, bases, func() error { return stillGoing(ctx, d, limit) })
	if err != nil {
		return nil, err
	}
	select {
	case err := <-started:
		if err != nil {
			return nil, err
		}
	default: // still starting the last programs
	}
	d.kill() // the floor's writers must not compete with a daemon
	floor, err := latencyFloor(ctx, e, filepath.Join(dir, "floor"))
	if err != nil {
		return nil, err
	}
	p99, floorP99 := percentile(lat, 99), percentile(floor, 99)
	return map[string]float64{"p50": median(lat), "p99": p99,
		"floor_p50": median(floor), "floor_p99": floorP99, "added_p99": p99 - floorP99,
		"lost": float64(min(latencyTailed, len(bases))*sz.ChattyRate*sz.ChattySecs - len(lat))}, nil
}

// latencyFloor measures the same lines on the same path with no
// supervisor: each `cat` has its log file as its stdout, as with
// `cat fifo >> log`. What a daemon adds is its latency less this one's.
func latencyFloor(ctx context.Context, e *benchEnv, dir string) ([]float64, error) {
	sz := e.sizes
	cfg, fifos, bases, err := latencyPrograms(e, dir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.logDir(), 0o755); err != nil {
		return nil, fmt.Errorf("line latency floor: %w", err)
	}
	catBin, err := exec.LookPath("cat")
	if err != nil {
		return nil, fmt.Errorf("line latency floor: %w", err)
	}
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		return nil, fmt.Errorf("line latency floor: %w", err)
	}
	defer devnull.Close()
	var cats []*os.Process
	defer func() {
		for _, p := range cats {
			p.Kill()
			p.Wait()
		}
	}()
	for i, fifo := range fifos {
		log, err := os.OpenFile(bases[i], os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			return nil, fmt.Errorf("line latency floor: %w", err)
		}
		p, err := os.StartProcess(catBin, []string{"cat", fifo}, &os.ProcAttr{Files: []*os.File{devnull, log, devnull}})
		log.Close()
		if err != nil {
			return nil, fmt.Errorf("line latency floor: start cat: %w", err)
		}
		cats = append(cats, p)
	}
	deadline := time.Now().Add(time.Duration(sz.ChattySecs+30) * time.Second)
	return feedAndTail(ctx, sz, fifos, bases, func() error {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if time.Now().After(deadline) {
			return errors.New("line latency floor: timed out")
		}
		return nil
	})
}

// feedAndTail writes the chatty rate of stamped lines into each FIFO and
// tails the first latencyTailed log files until all their lines arrived
// or going says stop; it returns each line's latency in milliseconds.
func feedAndTail(ctx context.Context, sz sizes, fifos, bases []string, going func() error) ([]float64, error) {
	var tails []*tail
	for _, base := range bases[:min(latencyTailed, len(bases))] {
		tails = append(tails, &tail{path: base})
	}
	defer func() {
		for _, t := range tails {
			if t.f != nil {
				t.f.Close()
			}
		}
	}()
	want := sz.ChattyRate * sz.ChattySecs * len(tails)
	feedCtx, stopFeeding := context.WithCancel(ctx)
	var feeders sync.WaitGroup
	fed := make(chan error, len(fifos))
	for i, fifo := range fifos {
		feeders.Go(func() { fed <- feedFIFO(feedCtx, sz, fifo, programName(i)) })
	}
	defer func() { stopFeeding(); feeders.Wait() }()
	lat := make([]float64, 0, want)
	buf := make([]byte, 64<<10)
	for len(lat) < want && going() == nil {
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
	stopFeeding()
	feeders.Wait()
	for range len(fed) {
		if err := <-fed; err != nil {
			return nil, fmt.Errorf("line latency: feeding a program: %w", err)
		}
	}
	if len(lat) == 0 {
		return nil, errors.New("line latency: no line reached the logs")
	}
	return lat, nil
}
