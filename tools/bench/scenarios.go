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
	"slices"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/drover/drover/internal/client"
)

// sizes are the scenario parameters; --quick shrinks them.
type sizes struct {
	StartupNs   []int         `json:"startup_ns"`
	IdleN       int           `json:"idle_n"`
	IdleSecs    int           `json:"idle_secs"`
	CrashKills  int           `json:"crash_kills"`
	LogMiB      int           `json:"log_mib"`
	ChattyProgs int           `json:"chatty_programs"`
	ChattyRate  int           `json:"chatty_lines_per_sec"`
	ChattySecs  int           `json:"chatty_secs"`
	ChattyTick  time.Duration `json:"chatty_tick_ns"`
	ControlN    int           `json:"control_n"`
	ShutdownN   int           `json:"shutdown_n"`
	ScrapeN     int           `json:"scrape_n"`
	Scrapes     int           `json:"scrapes"`
	// The dashboard scenario: DashN programs, DashChatty of them writing
	// ChattyRate lines/s, daemon CPU over DashSecs without and then with a
	// dashboard's event stream open.
	DashN      int `json:"dashboard_n"`
	DashChatty int `json:"dashboard_chatty"`
	DashSecs   int `json:"dashboard_secs"`
	// MemoryNs are the program counts of the memory scenario, ScaleN that
	// of the scale scenario.
	MemoryNs []int      `json:"memory_ns"`
	ScaleN   int        `json:"scale_n"`
	Fleet    fleetSizes `json:"fleet"` // set in fleet.go
}

// largest is the most programs any scenario runs.
func (sz sizes) largest() int {
	return max(slices.Max(sz.StartupNs), slices.Max(sz.MemoryNs), sz.ScaleN, sz.IdleN, sz.ControlN, sz.DashN)
}

var fullSizes = sizes{StartupNs: []int{1, 100, 500}, IdleN: 500, IdleSecs: 20, CrashKills: 20, LogMiB: 2048,
	ChattyProgs: 100, ChattyRate: 1000, ChattySecs: 10, ChattyTick: 10 * time.Millisecond, ControlN: 500, ShutdownN: 100, ScrapeN: 500, Scrapes: 100,
	DashN: 500, DashChatty: 100, DashSecs: 10, MemoryNs: []int{100, 500, 2000}, ScaleN: 5000}

var quickSizes = sizes{StartupNs: []int{1, 50}, IdleN: 50, IdleSecs: 3, CrashKills: 5, LogMiB: 128,
	ChattyProgs: 10, ChattyRate: 1000, ChattySecs: 2, ChattyTick: 10 * time.Millisecond, ControlN: 50, ShutdownN: 20, ScrapeN: 50, Scrapes: 10,
	DashN: 50, DashChatty: 10, DashSecs: 2, MemoryNs: []int{10, 50}, ScaleN: 200}

// goal is the target for Drover on one measure.
type goal struct {
	Op    string  `json:"op"` // "<=", ">=" or "=="
	Value float64 `json:"value"`
}

func (g goal) String() string {
	if g.Op == "" {
		return ""
	}
	op := map[string]string{"<=": "≤", ">=": "≥", "==": "="}[g.Op]
	return op + " " + strconv.FormatFloat(g.Value, 'f', -1, 64)
}

func (g goal) met(v float64) bool {
	switch g.Op {
	case "<=":
		return v <= g.Value
	case ">=":
		return v >= g.Value
	default:
		return v == g.Value
	}
}

// measureDef is one row of the results table.
type measureDef struct {
	Key  string
	Name string
	Unit string
	Goal goal
}

// scenario is one benchmark; run returns one value per measure key.
type scenario struct {
	Name     string // shown in the table, e.g. "start-up N=500"
	Group    string // selected by --scenarios
	Measures []measureDef
	// Runs, if set, caps the runs per daemon below --runs (a slow scenario).
	Runs int
	run  func(ctx context.Context, e *benchEnv, k daemonKind, dir string) (map[string]float64, error)
}

// benchEnv is what every scenario needs.
type benchEnv struct {
	sizes     sizes
	self      string // this executable, run as the child programs
	sleepBin  string
	pyCtl     string // Python supervisorctl: the same client for both daemons
	droverCtl string // Drover's ctl (symlink named supervisorctl), empty if none
	logRoot   string // where the log scenario writes; empty for its run dir
}

// scenarioGroups lists the names --scenarios accepts, in run order.
var scenarioGroups = []string{"startup", "memory", "idle", "crash", "log", "chatty", "latency", "control", "shutdown", "scrape", "dashboard", "scale", "fleet"}

// scenarios builds the scenario list for sizes; the goals are
// attached only at the sizes.
func scenarios(sz sizes, withGoals bool) []scenario {
	g := func(op string, v float64) goal {
		if !withGoals {
			return goal{}
		}
		return goal{op, v}
	}
	var out []scenario
	for _, n := range sz.StartupNs {
		var exist, run, rss, existX, runX goal
		if n == 500 {
			exist, run, rss = g("<=", 0.2), g("<=", 1.15), g("<=", 15)
			existX, runX = g("<=", 1.3), g("<=", 1.3)
		}
		out = append(out, scenario{
			Name: fmt.Sprintf("start-up N=%d", n), Group: "startup",
			Measures: []measureDef{
				{"exist", "launch → all children exist", "s", exist},
				{"running", "launch → all RUNNING", "s", run},
				{"peak_rss", "daemon peak RSS", "MB", rss},
				{"floor", "floor: os.StartProcess loop, no pipes, no logs", "s", goal{}},
				{"exist_x", "all children exist, × floor", "×", existX},
				{"running_x", "all RUNNING − startsecs, × floor", "×", runX},
			},
			run: func(ctx context.Context, e *benchEnv, k daemonKind, dir string) (map[string]float64, error) {
				return runStartup(ctx, e, k, dir, n)
			},
		})
	}
	out = append(out, memoryScenario(sz, g))
	out = append(out,
		scenario{Name: fmt.Sprintf("idle N=%d, %d s", sz.IdleN, sz.IdleSecs), Group: "idle",
			Measures: []measureDef{
				{"cpu", fmt.Sprintf("daemon CPU over %d s", sz.IdleSecs), "s", g("<=", 0.02)},
				{"rss", "daemon RSS", "MB", goal{}},
			}, run: runIdle},
		scenario{Name: fmt.Sprintf("crash → restart ×%d", sz.CrashKills), Group: "crash",
			Measures: []measureDef{
				{"median", "SIGKILL → new child, median", "ms", g("<=", 3)},
				{"p95", "SIGKILL → new child, p95", "ms", g("<=", 10)},
			}, run: runCrash},
		scenario{Name: fmt.Sprintf("log %d MiB", sz.LogMiB), Group: "log",
			Measures: []measureDef{
				{"mbps", "start → every byte on disk", "MB/s", goal{}},
				{"pct_ref", "of `writer > file`", "%", g(">=", 80)},
				{"ref_mbps", "reference `writer > file`", "MB/s", goal{}},
				{"cat_mbps", "reference: writer piped into `cat > file`", "MB/s", goal{}},
				{"pct_cat", "of writer piped into `cat > file`", "%", goal{}},
				{"cpu", "daemon CPU", "s", goal{}},
				{"lost", "bytes lost", "B", g("==", 0)},
				{"bad", "records out of place", "", g("==", 0)},
			}, run: runLog},
		scenario{Name: fmt.Sprintf("chatty %d × %d lines/s × %d s", sz.ChattyProgs, sz.ChattyRate, sz.ChattySecs), Group: "chatty",
			Measures: []measureDef{
				{"cpu_pct", "daemon CPU", "% core", g("<=", 8)},
				{"lost", "lines lost", "lines", g("==", 0)},
			}, run: runChatty},
		latencyScenario(sz, g),
		scenario{Name: fmt.Sprintf("control N=%d", sz.ControlN), Group: "control",
			Measures: []measureDef{
				{"status", "`supervisorctl status` (Python)", "s", g("<=", 0.03)},
				{"status_drover", "`supervisorctl status` (Drover's)", "s", goal{}},
				{"status_own", "`status` with the daemon's own ctl", "s", goal{}},
				{"getall", "one getAllProcessInfo (call → last byte)", "s", g("<=", 0.008)},
				{"getall_cpu", "daemon CPU per getAllProcessInfo", "ms", goal{}},
				{"start", "startAllProcesses → all RUNNING", "s", g("<=", 1.15)},
				{"floor", "floor: os.StartProcess loop, no pipes, no logs", "s", goal{}},
				{"start_x", "startAllProcesses → all RUNNING − startsecs, × floor", "×", g("<=", 1.3)},
				{"stop", "stopAllProcesses → no child left", "s", g("<=", 0.1)},
			}, run: runControl},
		scenario{Name: fmt.Sprintf("shutdown N=%d", sz.ShutdownN), Group: "shutdown",
			Measures: []measureDef{
				{"shutdown", "SIGTERM → daemon and children gone", "s", g("<=", 0.3)},
			}, run: runShutdown},
		scenario{Name: fmt.Sprintf("scrape N=%d ×%d", sz.ScrapeN, sz.Scrapes), Group: "scrape",
			Measures: []measureDef{
				{"cpu_ms", "daemon CPU per /metrics scrape (Drover only)", "ms", g("<=", 10)},
				{"latency", "one scrape (request → last byte), median", "ms", goal{}},
				{"cpu_ms_apart", "daemon CPU per scrape, scrapes 2.5 s apart", "ms", goal{}},
			}, run: runScrape},
		scenario{Name: fmt.Sprintf("dashboard open: daemon CPU, N=%d, %d × %d lines/s", sz.DashN, sz.DashChatty, sz.ChattyRate), Group: "dashboard",
			Measures: []measureDef{
				{"cpu_none", "daemon CPU, no dashboard", "% core", goal{}},
				{"cpu_open", "daemon CPU, one dashboard open", "% core", goal{}},
				{"cpu_rise", "rise with the dashboard open", "% core", g("<=", 3)},
				{"running", "launch → all RUNNING", "s", goal{}},
				{"load", "load average (1 min) per CPU, end of the windows", "", goal{}},
			}, run: runDashboard},
	)
	out = append(out, scaleScenario(sz))
	out = append(out, fleetScenario(sz, g))
	return out
}

// startWithPrograms writes cfg and starts k on it, ready for XML-RPC.
func startWithPrograms(ctx context.Context, k daemonKind, cfg benchConfig) (*daemon, error) {
	if err := cfg.write(); err != nil {
		return nil, err
	}
	d, err := startDaemon(k, cfg)
	if err != nil {
		return nil, err
	}
	if err := d.waitReady(ctx, runningLimit(len(cfg.Programs))); err != nil {
		d.kill()
		return nil, err
	}
	return d, nil
}

// startRunning starts k on n sleepers and waits until all are RUNNING.
func startRunning(ctx context.Context, e *benchEnv, k daemonKind, dir string, n int) (*daemon, error) {
	d, err := startWithPrograms(ctx, k, benchConfig{Dir: dir, Programs: sleepers(n, e.sleepBin, 1, "")})
	if err != nil {
		return nil, err
	}
	if err := d.waitAllRunning(ctx, programName(n-1), 120*time.Second); err != nil {
		d.kill()
		return nil, err
	}
	return d, nil
}

func runStartup(ctx context.Context, e *benchEnv, k daemonKind, dir string, n int) (map[string]float64, error) {
	cfg := benchConfig{Dir: dir, Programs: sleepers(n, e.sleepBin, 1, "")}
	if err := cfg.write(); err != nil {
		return nil, err
	}
	floor, err := spawnFloor(ctx, sleeperArgv(e.sleepBin), n)
	if err != nil {
		return nil, err
	}
	before, err := lastPID()
	if err != nil {
		return nil, err
	}
	d, err := startDaemon(k, cfg)
	if err != nil {
		return nil, err
	}
	defer d.kill()
	w := newChildWatcher(d.pid, before)
	seen := 0
	for seen < n {
		kids, err := w.poll()
		if err != nil {
			return nil, err
		}
		seen += len(kids)
		if seen >= n {
			break
		}
		if err := stillGoing(ctx, d, 60*time.Second); err != nil {
			return nil, fmt.Errorf("%d of %d children exist: %w", seen, n, err)
		}
		time.Sleep(500 * time.Microsecond)
	}
	exist := time.Since(d.launched)
	if err := d.waitReady(ctx, 60*time.Second); err != nil {
		return nil, err
	}
	if err := d.waitAllRunning(ctx, programName(n-1), 120*time.Second); err != nil {
		return nil, err
	}
	running := time.Since(d.launched)
	_, peak, err := memMB(d.pid)
	if err != nil {
		return nil, err
	}
	return map[string]float64{"exist": exist.Seconds(), "running": running.Seconds(), "peak_rss": peak,
		"floor": floor.Seconds(), "exist_x": exist.Seconds() / floor.Seconds(), "running_x": overFloor(running, time.Second, floor)}, nil
}

// stillGoing fails when the run should stop waiting: interrupted, the
// daemon died, or more than limit has passed since its launch.
func stillGoing(ctx context.Context, d *daemon, limit time.Duration) error {
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case d.exited():
		return fmt.Errorf("%s exited", d.kind.Name)
	case time.Since(d.launched) > limit:
		return fmt.Errorf("timed out after %v", limit)
	}
	return nil
}

// sleepCtx sleeps for d unless ctx ends first.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func runIdle(ctx context.Context, e *benchEnv, k daemonKind, dir string) (map[string]float64, error) {
	d, err := startRunning(ctx, e, k, dir, e.sizes.IdleN)
	if err != nil {
		return nil, err
	}
	defer d.kill()
	cpu, err := idleCPU(ctx, d, e.sizes.IdleSecs)
	if err != nil {
		return nil, err
	}
	rss, _, err := memMB(d.pid)
	if err != nil {
		return nil, err
	}
	return map[string]float64{"cpu": cpu, "rss": rss}, nil
}

// idleCPU is the daemon's CPU time in seconds over secs of idling, after
// 2 s for start-up work (log flushes, timers) to finish.
func idleCPU(ctx context.Context, d *daemon, secs int) (float64, error) {
	if err := sleepCtx(ctx, 2*time.Second); err != nil {
		return 0, err
	}
	c0, err := cpuSeconds(d.pid)
	if err != nil {
		return 0, err
	}
	if err := sleepCtx(ctx, time.Duration(secs)*time.Second); err != nil {
		return 0, err
	}
	c1, err := cpuSeconds(d.pid)
	if err != nil {
		return 0, err
	}
	return c1 - c0, nil
}

// crashAfter is how long a restarted child runs before the next SIGKILL.
const crashAfter = time.Second

func runCrash(ctx context.Context, e *benchEnv, k daemonKind, dir string) (map[string]float64, error) {
	d, err := startWithPrograms(ctx, k, benchConfig{Dir: dir, Programs: sleepers(1, e.sleepBin, 0, "true")})
	if err != nil {
		return nil, err
	}
	defer d.kill()
	name := programName(0)
	var lat []float64
	prev := 0
	for range e.sizes.CrashKills {
		// Wait for the restarted child to be RUNNING, then let the daemon go idle.
		var p client.ProcessInfo
		deadline := time.Now().Add(30 * time.Second)
		for !isRunning(p) || p.PID == prev {
			if err := stillGoing(ctx, d, time.Hour); err != nil {
				return nil, err
			}
			if time.Now().After(deadline) {
				return nil, fmt.Errorf("%s not RUNNING again within 30 s (state %s)", name, p.StateName)
			}
			if p, err = d.rpc.ProcessInfo(ctx, name); err != nil {
				return nil, err
			}
			time.Sleep(20 * time.Millisecond)
		}
		// A worker that crashes has usually run a while: killing it sooner
		// would measure a daemon's restart pacing (Drover waits until 500 ms
		// after the previous start), not its reaction to the crash.
		if err := sleepCtx(ctx, crashAfter); err != nil {
			return nil, err
		}
		before, err := lastPID()
		if err != nil {
			return nil, err
		}
		w := newChildWatcher(d.pid, before)
		if err := syscall.Kill(p.PID, syscall.SIGKILL); err != nil {
			return nil, fmt.Errorf("kill child %d: %w", p.PID, err)
		}
		t0 := time.Now()
		for {
			kids, err := w.poll()
			if err != nil {
				return nil, err
			}
			if len(kids) > 0 {
				lat = append(lat, float64(time.Since(t0).Microseconds())/1000)
				break
			}
			if time.Since(t0) > 30*time.Second || ctx.Err() != nil {
				return nil, errors.Join(fmt.Errorf("no new child within 30 s of SIGKILL"), ctx.Err())
			}
			time.Sleep(250 * time.Microsecond)
		}
		prev = p.PID
	}
	return map[string]float64{"median": median(lat), "p95": percentile(lat, 95)}, nil
}

const mib = 1 << 20

func runLog(ctx context.Context, e *benchEnv, k daemonKind, dir string) (map[string]float64, error) {
	size := int64(e.sizes.LogMiB) * mib
	const rotateAt = 50 * mib
	cfg := benchConfig{Dir: dir}
	if e.logRoot != "" {
		logs, err := os.MkdirTemp(e.logRoot, "drvbench")
		if err != nil {
			return nil, fmt.Errorf("create log dir: %w", err)
		}
		defer os.RemoveAll(logs)
		cfg.LogDir = logs
	}
	base := filepath.Join(cfg.logDir(), "writer.log")
	if err := os.MkdirAll(cfg.logDir(), 0o755); err != nil {
		return nil, fmt.Errorf("create log dir: %w", err)
	}
	// Warm up: the first touch of memory in a VM is slow and would make
	// whichever arm runs first look slower. An untimed reference write
	// leaves freed, already-touched pages for the timed ones.
	if _, err := referenceWrite(e, cfg.logDir(), size, false); err != nil {
		return nil, err
	}
	cfg.Programs = []program{{
		Name: "writer", Command: fmt.Sprintf("%s %s -bytes %d", e.self, cmdWritePattern, size),
		Startsecs: 0, Autorestart: "false", StdoutLogfile: base, StdoutMaxbytes: "50MB",
		// Keep every byte so it can be checked: at least the 10 backups.
		StdoutBackups: max(10, int(size/rotateAt)+2),
	}}
	d, err := startWithPrograms(ctx, k, cfg)
	if err != nil {
		return nil, err
	}
	defer d.kill()
	syscall.Sync() // start from no dirty pages, as the reference does
	c0, err := cpuSeconds(d.pid)
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	if _, err := d.rpc.Call(ctx, "supervisor.startProcess", "writer", false); err != nil {
		return nil, err
	}
	limit := time.Duration(size/(5*mib))*time.Second + 30*time.Second
	waitWriterExit(ctx, d, limit)
	var elapsed time.Duration
	for {
		// A file renamed during the look can be missed: confirm a full count.
		if sizeOnDisk(base) == size {
			elapsed = time.Since(t0)
			if sizeOnDisk(base) == size {
				break
			}
		}
		if err := stillGoing(ctx, d, limit); err != nil {
			elapsed = time.Since(t0) // the bytes missing are counted as lost
			break
		}
		time.Sleep(time.Millisecond)
	}
	c1, err := cpuSeconds(d.pid)
	if err != nil {
		return nil, err
	}
	// Let a late writer finish, then stop the daemon so that it cannot slow
	// the reference down.
	time.Sleep(200 * time.Millisecond)
	d.kill()
	total, bad, err := verifyRotated(base)
	if err != nil {
		return nil, err
	}
	files, err := rotatedFiles(base)
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		if err := os.Remove(f); err != nil {
			return nil, fmt.Errorf("remove logs: %w", err)
		}
	}
	syscall.Sync()
	// The reference is noisy and noise only slows a run down (memory faults in
	// the VM, writeback): the best of three is what the machine can do.
	var ref, catRef []float64
	for range 3 {
		for _, viaCat := range []bool{false, true} {
			dt, err := referenceWrite(e, cfg.logDir(), size, viaCat)
			if err != nil {
				return nil, err
			}
			if viaCat {
				catRef = append(catRef, float64(size)/mib/dt.Seconds())
			} else {
				ref = append(ref, float64(size)/mib/dt.Seconds())
			}
		}
	}
	mbps := float64(size) / mib / elapsed.Seconds()
	refMBps, catMBps := slices.Max(ref), slices.Max(catRef)
	return map[string]float64{"mbps": mbps, "ref_mbps": refMBps, "pct_ref": 100 * mbps / refMBps,
		"cat_mbps": catMBps, "pct_cat": 100 * mbps / catMBps,
		"cpu": c1 - c0, "lost": float64(size - total), "bad": float64(bad)}, nil
}

// waitWriterExit waits, without looking at the log files, until the writer
// program has exited (or limit after the launch): only the last pipeful is
// then still to be written, which the caller polls for. Polling the files
// from the start cost the benchmark 0.1-0.5 ms of CPU a millisecond (a
// directory listing and a stat of each of 40 backups), taken from the two
// CPUs that the writer and the daemon share, while the reference write has
// no watcher. If the writer's pid cannot be had it returns at once.
func waitWriterExit(ctx context.Context, d *daemon, limit time.Duration) {
	p, err := d.rpc.ProcessInfo(ctx, "writer")
	if err != nil || p.PID <= 0 {
		return
	}
	fd, err := unix.PidfdOpen(p.PID, 0)
	if err != nil {
		return // exited already
	}
	defer unix.Close(fd)
	for ctx.Err() == nil && !d.exited() && time.Since(d.launched) < limit {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		if n, _ := unix.Poll(fds, 100); n > 0 {
			return
		}
	}
}

// referenceWrite times the same writer with its stdout a file, `writer >
// file`, or with viaCat a pipe that cat copies to the file, `writer | cat >
// file`: the daemon's path without the daemon. A pipe's reader and writer
// take turns (each holds the pipe's lock while it copies), so no reader of
// a pipe, cat or a daemon, comes near `writer > file`.
func referenceWrite(e *benchEnv, dir string, size int64, viaCat bool) (time.Duration, error) {
	path := filepath.Join(dir, "reference.out")
	f, err := os.Create(path)
	if err != nil {
		return 0, fmt.Errorf("reference write: %w", err)
	}
	defer os.Remove(path)
	defer f.Close()
	syscall.Sync()
	cmd := exec.Command(e.self, cmdWritePattern, "-bytes", strconv.FormatInt(size, 10))
	cmd.Stdout = f
	var cat *exec.Cmd
	if viaCat {
		// An *os.File at both ends: any other Writer would put a copy
		// loop of this process between them.
		pr, pw, err := os.Pipe()
		if err != nil {
			return 0, fmt.Errorf("reference write: %w", err)
		}
		defer pr.Close()
		defer pw.Close()
		cat = exec.Command("cat")
		cat.Stdin, cat.Stdout, cmd.Stdout = pr, f, pw
	}
	t0 := time.Now()
	if cat != nil {
		if err := cat.Start(); err != nil {
			return 0, fmt.Errorf("reference write: %w", err)
		}
	}
	err = cmd.Run()
	if cat != nil {
		// cat sees the end of the pipe once no one else holds its write end.
		cmd.Stdout.(*os.File).Close()
		if cerr := cat.Wait(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return 0, fmt.Errorf("reference write: %w", err)
	}
	return time.Since(t0), nil
}

// chattyPrograms configures the chatty load: ChattyProgs programs running
// the chatty sub-command, each logging to its own file, which it returns
// too.
func chattyPrograms(e *benchEnv, dir string) (benchConfig, []string) {
	sz := e.sizes
	cfg := benchConfig{Dir: dir}
	var bases []string
	for i := range sz.ChattyProgs {
		name := programName(i)
		base := filepath.Join(cfg.logDir(), name+".log")
		bases = append(bases, base)
		cfg.Programs = append(cfg.Programs, program{Name: name,
			Command: fmt.Sprintf("%s %s -name %s -rate %d -secs %d -tick %v", e.self, cmdChatty, name,
				sz.ChattyRate, sz.ChattySecs, sz.ChattyTick),
			Startsecs: 1, Autorestart: "false", StdoutLogfile: base, StdoutMaxbytes: "50MB"})
	}
	return cfg, bases
}

func runChatty(ctx context.Context, e *benchEnv, k daemonKind, dir string) (map[string]float64, error) {
	sz := e.sizes
	cfg, bases := chattyPrograms(e, dir)
	d, err := startWithPrograms(ctx, k, cfg)
	if err != nil {
		return nil, err
	}
	defer d.kill()
	perProgram := int64(sz.ChattyRate * sz.ChattySecs)
	want := perProgram * int64(sz.ChattyProgs) * chattyLineLen
	c0, err := cpuSeconds(d.pid)
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	if _, err := d.rpc.Call(ctx, "supervisor.startAllProcesses", false); err != nil {
		return nil, err
	}
	limit := time.Since(d.launched) + time.Duration(sz.ChattySecs+30)*time.Second
	for {
		var got int64
		for _, b := range bases {
			got += sizeOnDisk(b)
		}
		if got >= want || stillGoing(ctx, d, limit) != nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	wall := time.Since(t0)
	c1, err := cpuSeconds(d.pid)
	if err != nil {
		return nil, err
	}
	var lines int64
	for _, b := range bases {
		n, err := countLines(b)
		if err != nil {
			return nil, err
		}
		lines += n
	}
	return map[string]float64{"cpu_pct": 100 * (c1 - c0) / wall.Seconds(),
		"lost": float64(perProgram*int64(sz.ChattyProgs) - lines)}, nil
}

func runControl(ctx context.Context, e *benchEnv, k daemonKind, dir string) (map[string]float64, error) {
	n := e.sizes.ControlN
	d, err := startRunning(ctx, e, k, dir, n)
	if err != nil {
		return nil, err
	}
	defer d.kill()
	cfgFile := d.cfg.file()
	out := map[string]float64{}
	const repeats = 5
	timeCtl := func(ctl []string) (float64, error) {
		return timeStatus(ctx, withConf(ctl, cfgFile), repeats)
	}
	pyCtl := []string{e.pyCtl, "-c", confPlaceholder}
	if out["status"], err = timeCtl(pyCtl); err != nil {
		return nil, err
	}
	if e.droverCtl != "" {
		if v, err := timeCtl([]string{e.droverCtl, "-c", confPlaceholder}); err == nil {
			out["status_drover"] = v
		}
	}
	out["status_own"] = out["status"]
	if !slices.Equal(k.Ctl, pyCtl) {
		if out["status_own"], err = timeCtl(k.Ctl); err != nil {
			return nil, err
		}
	}
	// The answer is read into one buffer reused from call to call (only
	// the first call grows it), as a client that calls often would: a
	// fresh 0.6 MB buffer per call cost this process more page faults
	// than the daemon took to answer.
	var answer bytes.Buffer
	var ts []float64
	for range repeats {
		answer.Reset()
		t0 := time.Now()
		if err := d.rpc.Exchange(ctx, &answer, "supervisor.getAllProcessInfo"); err != nil {
			return nil, err
		}
		ts = append(ts, time.Since(t0).Seconds())
	}
	out["getall"] = median(ts)
	// CPU time hardly depends on the machine's load, wall time does. It
	// is counted in clock ticks (10 ms): 100 calls read it to 0.1 ms a
	// call (20 calls of 0.6 ms read as 0.5 or 1.0 ms).
	const cpuCalls = 100
	c0, err := cpuSeconds(d.pid)
	if err != nil {
		return nil, err
	}
	for range cpuCalls {
		answer.Reset()
		if err := d.rpc.Exchange(ctx, &answer, "supervisor.getAllProcessInfo"); err != nil {
			return nil, err
		}
	}
	c1, err := cpuSeconds(d.pid)
	if err != nil {
		return nil, err
	}
	out["getall_cpu"] = (c1 - c0) * 1000 / cpuCalls
	all, err := d.rpc.AllProcessInfo(ctx)
	if err != nil {
		return nil, err
	}

	t0 := time.Now()
	if _, err := d.rpc.Call(ctx, "supervisor.stopAllProcesses", true); err != nil {
		return nil, err
	}
	if err := waitGone(ctx, all, 60*time.Second); err != nil {
		return nil, err
	}
	out["stop"] = time.Since(t0).Seconds()

	t0 = time.Now()
	if _, err := d.rpc.Call(ctx, "supervisor.startAllProcesses", true); err != nil {
		return nil, err
	}
	if err := d.waitAllRunning(ctx, "", 120*time.Second); err != nil {
		return nil, err
	}
	start := time.Since(t0)
	out["start"] = start.Seconds()
	d.kill() // the floor's spawns must not compete with a daemon
	floor, err := spawnFloor(ctx, sleeperArgv(e.sleepBin), n)
	if err != nil {
		return nil, err
	}
	out["floor"], out["start_x"] = floor.Seconds(), overFloor(start, time.Second, floor)
	return out, nil
}

// timeStatus runs `ctl status` repeats times and returns the median
// wall time of the whole command in seconds.
func timeStatus(ctx context.Context, ctl []string, repeats int) (float64, error) {
	argv := append(slices.Clone(ctl), "status")
	var ts []float64
	for range repeats {
		cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
		t0 := time.Now()
		err := cmd.Run()
		dt := time.Since(t0)
		var ee *exec.ExitError
		if err != nil && !(errors.As(err, &ee) && ee.ExitCode() == 3) { // 3: some not RUNNING
			return 0, fmt.Errorf("%s status: %w", argv[0], err)
		}
		ts = append(ts, dt.Seconds())
	}
	return median(ts), nil
}

// waitGone polls until none of the processes' pids exists any more.
func waitGone(ctx context.Context, ps []client.ProcessInfo, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for _, p := range ps {
		for p.PID > 0 && alive(p.PID) {
			if ctx.Err() != nil || time.Now().After(deadline) {
				return errors.Join(fmt.Errorf("child %d still there after %v", p.PID, limit), ctx.Err())
			}
			time.Sleep(time.Millisecond)
		}
	}
	return nil
}

func runShutdown(ctx context.Context, e *benchEnv, k daemonKind, dir string) (map[string]float64, error) {
	d, err := startRunning(ctx, e, k, dir, e.sizes.ShutdownN)
	if err != nil {
		return nil, err
	}
	defer d.kill()
	all, err := d.rpc.AllProcessInfo(ctx)
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	if err := syscall.Kill(d.pid, syscall.SIGTERM); err != nil {
		return nil, fmt.Errorf("signal daemon: %w", err)
	}
	select {
	case <-d.done:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(180 * time.Second):
		return nil, fmt.Errorf("%s still running 180 s after SIGTERM", k.Name)
	}
	if err := waitGone(ctx, all, 10*time.Second); err != nil {
		return nil, err
	}
	return map[string]float64{"shutdown": time.Since(t0).Seconds()}, nil
}

// runScrape measures what a Prometheus scrape of /metrics costs the daemon
// with ScrapeN RUNNING programs: its CPU time over Scrapes scrapes, one
// after the other. Supervisor has no /metrics: its arm measures nothing.
func runScrape(ctx context.Context, e *benchEnv, k daemonKind, dir string) (map[string]float64, error) {
	if k.Name != "drover" {
		return map[string]float64{}, nil
	}
	d, err := startRunning(ctx, e, k, dir, e.sizes.ScrapeN)
	if err != nil {
		return nil, err
	}
	defer d.kill()
	if err := sleepCtx(ctx, 2*time.Second); err != nil {
		return nil, err
	}
	if err := d.rpc.Stream(ctx, "/metrics", io.Discard); err != nil { // warm up
		return nil, err
	}
	c0, err := cpuSeconds(d.pid)
	if err != nil {
		return nil, err
	}
	var lat []float64
	for range e.sizes.Scrapes {
		t0 := time.Now()
		if err := d.rpc.Stream(ctx, "/metrics", io.Discard); err != nil {
			return nil, err
		}
		lat = append(lat, float64(time.Since(t0).Microseconds())/1000)
	}
	c1, err := cpuSeconds(d.pid)
	if err != nil {
		return nil, err
	}
	// Drover shares one reading of /proc between scrapes for 2 s: scrapes
	// further apart, as Prometheus makes them, each read it.
	apart := max(e.sizes.Scrapes/10, 1)
	for range apart {
		if err := sleepCtx(ctx, 2500*time.Millisecond); err != nil {
			return nil, err
		}
		if err := d.rpc.Stream(ctx, "/metrics", io.Discard); err != nil {
			return nil, err
		}
	}
	c2, err := cpuSeconds(d.pid)
	if err != nil {
		return nil, err
	}
	return map[string]float64{"cpu_ms": (c1 - c0) * 1000 / float64(e.sizes.Scrapes), "latency": median(lat),
		"cpu_ms_apart": (c2 - c1) * 1000 / float64(apart)}, nil
}
