package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// dashPairs is how many windows without and with a dashboard the
// dashboard scenario measures.
const dashPairs = 3

// maxDashStartup bounds the dashboard scenario's wait for its programs,
// however loaded the machine.
const maxDashStartup = 20 * time.Minute

// dashStartup is how long the dashboard scenario waits for its n programs
// to be RUNNING: runningLimit(n), stretched by the load average per CPU
// when there are more runnable tasks than CPUs. On a shared machine at a
// load of 40-245 on 2 CPUs a fork took 20-80 ms and 500 programs with 100
// chatty writers did not all start within 2 minutes.
func dashStartup(n int) time.Duration {
	return min(time.Duration(float64(runningLimit(n))*max(1, loadPerCPU())), maxDashStartup)
}

// loadPerCPU is the 1-minute load average over the CPUs; 0 when unknown.
func loadPerCPU() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	load, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return 0
	}
	return load / float64(runtime.NumCPU())
}

// runDashboard measures what one open dashboard costs the daemon: its CPU
// over windows of DashSecs with no browser and with one event stream read
// as fast as it comes, while DashChatty of DashN programs write. Only
// Drover has a dashboard; supervisord gets no figures.
func runDashboard(ctx context.Context, e *benchEnv, k daemonKind, dir string) (map[string]float64, error) {
	if k.Name != "drover" {
		return map[string]float64{}, nil
	}
	sz := e.sizes
	limit := dashStartup(sz.DashN)
	cfg := benchConfig{Dir: dir}
	// The writers outlast both windows and the longest start-up waited for
	// (a writer that ended first left the daemon never all RUNNING).
	secs := 2*dashPairs*sz.DashSecs + 30 + int(limit/time.Second)
	for i := range sz.DashN {
		p := program{Name: programName(i), Command: e.sleepBin + " 1000000", Autostart: true, Startsecs: 1}
		if i < sz.DashChatty {
			p.Command = fmt.Sprintf("%s %s -name %s -rate %d -secs %d -tick %v", e.self, cmdChatty, p.Name,
				sz.ChattyRate, secs, sz.ChattyTick)
			p.StdoutLogfile, p.StdoutMaxbytes = filepath.Join(cfg.logDir(), p.Name+".log"), "50MB"
		}
		cfg.Programs = append(cfg.Programs, p)
	}
	d, err := startWithPrograms(ctx, k, cfg)
	if err != nil {
		return nil, err
	}
	defer d.kill()
	if err := d.waitAllRunning(ctx, programName(sz.DashN-1), limit); err != nil {
		return nil, fmt.Errorf("%w (limit scaled to a load of %.1f per CPU)", err, loadPerCPU())
	}
	running := time.Since(d.launched)
	window := func() (float64, error) {
		c0, err := cpuSeconds(d.pid)
		if err != nil {
			return 0, err
		}
		t0 := time.Now()
		if err := sleepCtx(ctx, time.Duration(sz.DashSecs)*time.Second); err != nil {
			return 0, err
		}
		c1, err := cpuSeconds(d.pid)
		if err != nil {
			return 0, err
		}
		return 100 * (c1 - c0) / time.Since(t0).Seconds(), nil
	}
	// Windows without and with the stream alternate, so that the
	// machine's drift hits both.
	var none, open, load float64
	for range dashPairs {
		c, err := window()
		if err != nil {
			return nil, err
		}
		none += c / dashPairs
		if c, err = windowWithStream(ctx, d, window); err != nil {
			return nil, err
		}
		open += c / dashPairs
		load = loadPerCPU()
	}
	return map[string]float64{"cpu_none": none, "cpu_open": open, "cpu_rise": open - none,
		"running": running.Seconds(), "load": load}, nil
}

// windowWithStream is window() with one dashboard event stream open and
// read as fast as it comes.
func windowWithStream(ctx context.Context, d *daemon, window func() (float64, error)) (float64, error) {
	streamCtx, endStream := context.WithCancel(ctx)
	defer endStream()
	var received countingWriter
	streamed := make(chan error, 1)
	go func() { streamed <- d.rpc.Stream(streamCtx, "/dashboard/events", &received) }()
	cpu, err := window()
	if err != nil {
		return 0, err
	}
	endStream()
	if err := <-streamed; err != nil && !errors.Is(err, context.Canceled) {
		return 0, fmt.Errorf("dashboard event stream: %w", err)
	}
	if received.n.Load() == 0 {
		return 0, errors.New("the dashboard's event stream sent nothing")
	}
	return cpu, nil
}

// countingWriter counts and discards what it is given.
type countingWriter struct{ n atomic.Int64 }

func (c *countingWriter) Write(p []byte) (int, error) {
	c.n.Add(int64(len(p)))
	return len(p), nil
}
