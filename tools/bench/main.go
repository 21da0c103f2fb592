package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// options are the command-line flags.
type options struct {
	Scenarios   []string      `json:"scenarios"`
	Runs        int           `json:"runs"`
	Quick       bool          `json:"quick"`
	Drover      string        `json:"drover"`
	Supervisord string        `json:"supervisord"`
	JSON        string        `json:"-"`
	IdleSecs    int           `json:"idle_secs"`
	LogMiB      int           `json:"log_mib"`
	LogDir      string        `json:"log_dir"`
	ChattyTick  time.Duration `json:"chatty_tick_ns"`
	Keep        bool          `json:"-"`
	// Peers are extra daemons (--peer), run beside the other two.
	Peers []peer `json:"peers,omitempty"`
}

// peer is a supervisord-compatible daemon given with --peer NAME=CMD and,
// optionally, --peer-ctl NAME=CMD.
type peer struct {
	Name  string   `json:"name"`
	Start []string `json:"start"`
	Ctl   []string `json:"ctl,omitempty"`
}

// parsePeerFlag splits NAME=CMD; CMD is split on white space (no quoting)
// and must name the configuration file with confPlaceholder.
func parsePeerFlag(v string) (name string, argv []string, err error) {
	name, cmd, ok := strings.Cut(v, "=")
	argv = strings.Fields(cmd)
	switch {
	case !ok || name == "" || len(argv) == 0:
		return "", nil, fmt.Errorf("want NAME=COMMAND, got %q", v)
	case strings.ContainsAny(name, "/ \t"):
		return "", nil, fmt.Errorf("peer name %q: no slashes or spaces", name)
	case name == "supervisord" || name == "drover" || name == "floor":
		return "", nil, fmt.Errorf("peer name %q is taken", name)
	case !strings.Contains(cmd, confPlaceholder):
		return "", nil, fmt.Errorf("peer command %q must name the configuration file as %s", cmd, confPlaceholder)
	}
	return name, argv, nil
}

func main() {
	if ok, err := runChild(os.Args[1:]); ok {
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func parseFlags(args []string) (options, error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	var o options
	scen := fs.String("scenarios", strings.Join(scenarioGroups, ","), "comma-separated scenarios to run: "+strings.Join(scenarioGroups, ","))
	fs.IntVar(&o.Runs, "runs", 0, "interleaved pairs (supervisord, drover) per scenario (default 3, or 1 with --quick)")
	fs.BoolVar(&o.Quick, "quick", false, "small sizes and short durations: a smoke run, not comparable with the goals")
	fs.StringVar(&o.Drover, "drover", "", "drover binary; empty builds ./cmd/drover, \"none\" runs supervisord only")
	fs.StringVar(&o.Supervisord, "supervisord", "/usr/bin/supervisord", "Python supervisord (installed with apt-get if missing); \"none\" runs without it (its supervisorctl is still the common client)")
	fs.StringVar(&o.JSON, "json", "", "results file; empty writes bench/results/<UTC time>.json, \"none\" writes none")
	fs.IntVar(&o.IdleSecs, "idle-secs", 0, "idle measuring window in seconds (default 20, or 3 with --quick)")
	fs.IntVar(&o.LogMiB, "log-mib", 0, "log-throughput burst in MiB (default 2048, or 128 with --quick)")
	fs.StringVar(&o.LogDir, "log-dir", "/dev/shm", "where the log-throughput scenario writes (a RAM file system keeps disk noise out); empty: the temp dir")
	fs.DurationVar(&o.ChattyTick, "chatty-tick", 0, "how often each chatty writer wakes to write its due lines (default 10ms)")
	fs.BoolVar(&o.Keep, "keep", false, "keep the temporary directory (configs, logs) for inspection")
	fs.Func("peer", "one more supervisord-compatible daemon `NAME=COMMAND` to run beside the others, started in the foreground by COMMAND, "+
		"where "+confPlaceholder+" stands for the configuration file (repeatable)", func(v string) error {
		name, argv, err := parsePeerFlag(v)
		if err != nil {
			return err
		}
		if slices.ContainsFunc(o.Peers, func(p peer) bool { return p.Name == name }) {
			return fmt.Errorf("peer %q given twice", name)
		}
		o.Peers = append(o.Peers, peer{Name: name, Start: argv})
		return nil
	})
	ctls := map[string][]string{}
	fs.Func("peer-ctl", "the control command `NAME=COMMAND` of peer NAME, to which \"status\" is appended, "+
		confPlaceholder+" as in --peer (default: Python's supervisorctl -c "+confPlaceholder+")", func(v string) error {
		name, argv, err := parsePeerFlag(v)
		if err != nil {
			return err
		}
		ctls[name] = argv
		return nil
	})
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	for name, argv := range ctls {
		i := slices.IndexFunc(o.Peers, func(p peer) bool { return p.Name == name })
		if i < 0 {
			return o, fmt.Errorf("--peer-ctl %s: no --peer of that name", name)
		}
		o.Peers[i].Ctl = argv
	}
	for _, s := range strings.Split(*scen, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if !slices.Contains(scenarioGroups, s) {
			return o, fmt.Errorf("unknown scenario %q (have %s)", s, strings.Join(scenarioGroups, ","))
		}
		o.Scenarios = append(o.Scenarios, s)
	}
	if o.Runs == 0 {
		o.Runs = 3
		if o.Quick {
			o.Runs = 1
		}
	}
	if o.Runs < 1 || o.Runs > 20 {
		return o, fmt.Errorf("--runs must be 1..20")
	}
	return o, nil
}

func (o options) sizes() sizes {
	sz := fullSizes
	if o.Quick {
		sz = quickSizes
	}
	if o.IdleSecs > 0 {
		sz.IdleSecs = min(o.IdleSecs, 600)
	}
	if o.LogMiB > 0 {
		sz.LogMiB = min(o.LogMiB, 16384)
	}
	if o.ChattyTick > 0 {
		sz.ChattyTick = o.ChattyTick
	}
	return sz
}

func run() error {
	o, err := parseFlags(os.Args[1:])
	if err != nil {
		return err
	}
	if err := becomeSubreaper(); err != nil {
		return err
	}
	// The daemons inherit the limit: thousands of programs need more
	// descriptors than a login shell allows, whatever minfds says.
	if err := raiseFDLimit(fdsFor(o.sizes().largest())); err != nil {
		fmt.Fprintln(os.Stderr, "note:", err)
	}
	if _, err := lastPID(); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	defer killAll()

	tmp, err := os.MkdirTemp("", "drvbench")
	if err != nil {
		return fmt.Errorf("create temp dir: %w", err)
	}
	if o.Keep {
		fmt.Fprintln(os.Stderr, "keeping", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}
	env, kinds, notes, err := prepare(o, tmp)
	if err != nil {
		return err
	}
	rep := newReport(o, kinds)
	if load := busyMachine(); load != "" {
		notes = append(notes, load)
	}
	rep.Notes = append(rep.Notes, notes...)
	for _, n := range notes {
		fmt.Fprintln(os.Stderr, "note:", n)
	}
	for _, sc := range scenarios(env.sizes, !o.Quick) {
		if !slices.Contains(o.Scenarios, sc.Group) {
			continue
		}
		samples := map[string]map[string][]float64{}
		runs := o.Runs
		if sc.Runs > 0 {
			runs = min(runs, sc.Runs)
		}
		for r := range runs {
			for _, k := range kinds { // A B A B: drift cancels
				if ctx.Err() != nil {
					break
				}
				dir := filepath.Join(tmp, fmt.Sprintf("%s-%d-%s", sc.Group, r, k.Name))
				t0 := time.Now()
				vals, err := sc.run(ctx, env, k, dir)
				if err != nil {
					note := fmt.Sprintf("%s, %s, run %d: %v", sc.Name, k.Name, r+1, err)
					rep.Notes = append(rep.Notes, note)
					fmt.Fprintln(os.Stderr, "error:", note)
					continue
				}
				fmt.Fprintf(os.Stderr, "%-34s %-11s run %d  %s  (%.1f s)\n", sc.Name, k.Name, r+1, formatVals(sc, vals), time.Since(t0).Seconds())
				if samples[k.Name] == nil {
					samples[k.Name] = map[string][]float64{}
				}
				for key, v := range vals {
					samples[k.Name][key] = append(samples[k.Name][key], v)
				}
				if !o.Keep {
					os.RemoveAll(dir)
				}
			}
		}
		rep.add(sc, samples)
	}
	rep.Finished = time.Now().UTC()
	rep.Machine.LoadEnd = loadAverage()
	rep.printTable(os.Stdout)
	if ctx.Err() != nil {
		return errors.New("interrupted; results are partial and not written")
	}
	return rep.writeJSON(o.JSON)
}

// busyMachine warns when other work is running: the spread of the results
// will show it, but the reader should know why.
func busyMachine() string {
	load := loadAverage()
	f := strings.Fields(load)
	if len(f) == 0 {
		return ""
	}
	one, err := strconv.ParseFloat(f[0], 64)
	if err != nil || one < float64(runtime.NumCPU())/2 {
		return ""
	}
	return fmt.Sprintf("machine busy before the start (load average %s on %d CPUs): expect noisy results", load, runtime.NumCPU())
}

// prepare finds or builds the binaries both daemons and the clients need.
func prepare(o options, tmp string) (*benchEnv, []daemonKind, []string, error) {
	var notes []string
	pyd := o.Supervisord
	if pyd == "none" { // an A/B run of two Drovers; Python's client is still used
		pyd = "/usr/bin/supervisord"
	}
	if err := ensureSupervisor(pyd); err != nil {
		return nil, nil, nil, err
	}
	self, err := os.Executable()
	if err != nil {
		return nil, nil, nil, fmt.Errorf("find own executable: %w", err)
	}
	sleepBin, err := exec.LookPath("sleep")
	if err != nil {
		return nil, nil, nil, fmt.Errorf("find sleep: %w", err)
	}
	pyCtl := filepath.Join(filepath.Dir(pyd), "supervisorctl")
	env := &benchEnv{sizes: o.sizes(), self: self, sleepBin: sleepBin, pyCtl: pyCtl, logRoot: o.LogDir}
	if fi, err := os.Stat(o.LogDir); o.LogDir != "" && (err != nil || !fi.IsDir()) {
		notes = append(notes, fmt.Sprintf("log scenario writes under the temp dir: %s is not a directory", o.LogDir))
		env.logRoot = ""
	}
	var kinds []daemonKind
	if o.Supervisord != "none" {
		kinds = append(kinds, daemonKind{Name: "supervisord", Start: []string{o.Supervisord, "-n", "-c", confPlaceholder},
			Ctl: []string{pyCtl, "-c", confPlaceholder}, Version: []string{o.Supervisord, "--version"}})
	}
	for _, p := range o.Peers {
		k := daemonKind{Name: p.Name, Start: p.Start, Ctl: p.Ctl}
		if k.Ctl == nil {
			k.Ctl = []string{pyCtl, "-c", confPlaceholder}
		}
		kinds = append(kinds, k)
	}

	drover := o.Drover
	switch drover {
	case "none":
		return env, kinds, append(notes, "drover not run (--drover=none)"), nil
	case "":
		drover = filepath.Join(tmp, "drover")
		if out, err := buildDrover(drover); err != nil {
			return env, kinds, append(notes, "drover not run: go build ./cmd/drover failed: "+firstLine(out)), nil
		}
	}
	drover, err = filepath.Abs(drover)
	if err != nil {
		return nil, nil, nil, err
	}
	// Drover picks its personality from argv[0].
	bin := filepath.Join(tmp, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		return nil, nil, nil, err
	}
	for _, name := range []string{"supervisord", "supervisorctl"} {
		if err := os.Symlink(drover, filepath.Join(bin, name)); err != nil {
			return nil, nil, nil, fmt.Errorf("link drover: %w", err)
		}
	}
	env.droverCtl = filepath.Join(bin, "supervisorctl")
	kinds = append(kinds, daemonKind{Name: "drover", Start: []string{filepath.Join(bin, "supervisord"), "-n", "-c", confPlaceholder},
		Ctl: []string{env.droverCtl, "-c", confPlaceholder}, Version: []string{drover, "version"}})
	return env, kinds, notes, nil
}

// buildDrover builds ./cmd/drover of the module the benchmark runs in.
func buildDrover(out string) (string, error) {
	root, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil || strings.TrimSpace(string(root)) == "" || strings.TrimSpace(string(root)) == os.DevNull {
		return "not inside the drover module", errors.New("no module")
	}
	cmd := exec.Command("go", "build", "-o", out, "./cmd/drover")
	cmd.Dir = filepath.Dir(strings.TrimSpace(string(root)))
	b, err := cmd.CombinedOutput()
	return string(b), err
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " …"
	}
	return s
}

// ensureSupervisor installs Debian's supervisor package when path is missing.
func ensureSupervisor(path string) error {
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	if path != "/usr/bin/supervisord" {
		return fmt.Errorf("supervisord not found at %s", path)
	}
	fmt.Fprintln(os.Stderr, "installing Debian's supervisor package")
	cmd := exec.Command("apt-get", "install", "-y", "supervisor")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("install supervisor: %w", err)
	}
	return nil
}
