package main

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// memoryScenario measures the daemon's peak RSS with each of sz.MemoryNs
// RUNNING programs and the cost of one more program: the least-squares
// slope of peak RSS over the number of programs.
func memoryScenario(sz sizes, g func(string, float64) goal) scenario {
	var ms []measureDef
	for _, n := range sz.MemoryNs {
		var gl goal
		if n == 500 {
			gl = g("<=", 20)
		}
		ms = append(ms, measureDef{memoryKey(n), fmt.Sprintf("daemon peak RSS, %d programs RUNNING", n), "MB", gl},
			measureDef{fileKey(n), fmt.Sprintf("of it mapped from files (code), %d programs", n), "MB", goal{}})
	}
	ms = append(ms, measureDef{"slope", "peak RSS per extra program (least squares)", "KB", g("<=", 8)})
	// One run: peak RSS hardly varies, and Python takes minutes for 2,000.
	return scenario{Name: fmt.Sprintf("memory N=%v", sz.MemoryNs), Group: "memory", Measures: ms, Runs: 1,
		run: func(ctx context.Context, e *benchEnv, k daemonKind, dir string) (map[string]float64, error) {
			out := map[string]float64{}
			var xs, ys []float64
			for _, n := range sz.MemoryNs {
				d, err := startRunning(ctx, e, k, filepath.Join(dir, strconv.Itoa(n)), n)
				if err != nil {
					return nil, err
				}
				mb, err := statusMB(d.pid, "VmHWM", "RssFile")
				d.kill()
				if err != nil {
					return nil, err
				}
				peak := mb[0]
				out[memoryKey(n)], out[fileKey(n)] = peak, mb[1]
				xs, ys = append(xs, float64(n)), append(ys, peak*1024)
			}
			if len(xs) > 1 {
				out["slope"] = slope(xs, ys)
			}
			return out, nil
		}}
}

func memoryKey(n int) string { return fmt.Sprintf("peak_%d", n) }

// fileKey names the file-backed part of the RSS (RssFile: the daemon's
// code and that of its interpreter or libraries, shared with every other
// process that maps the same files) at the end of the run with n programs.
func fileKey(n int) string { return fmt.Sprintf("file_%d", n) }

// slope is the least-squares slope of ys over xs.
func slope(xs, ys []float64) float64 {
	var mx, my float64
	for i := range xs {
		mx += xs[i]
		my += ys[i]
	}
	mx, my = mx/float64(len(xs)), my/float64(len(xs))
	var num, den float64
	for i := range xs {
		num += (xs[i] - mx) * (ys[i] - my)
		den += (xs[i] - mx) * (xs[i] - mx)
	}
	return num / den
}

// scaleScenario starts sz.ScaleN programs: the time until all are RUNNING,
// RSS, idle CPU and the time of `supervisorctl status` (Python's). One run
// per daemon: Python's supervisord takes minutes at this size.
func scaleScenario(sz sizes) scenario {
	return scenario{Name: fmt.Sprintf("scale N=%d", sz.ScaleN), Group: "scale", Runs: 1,
		Measures: []measureDef{
			{"running", "launch → all RUNNING", "s", goal{}},
			{"rss", "daemon RSS", "MB", goal{}},
			{"peak_rss", "daemon peak RSS", "MB", goal{}},
			{"cpu", fmt.Sprintf("daemon CPU over %d s idle", sz.IdleSecs), "s", goal{}},
			{"status", "`supervisorctl status` (Python)", "s", goal{}},
		},
		run: func(ctx context.Context, e *benchEnv, k daemonKind, dir string) (map[string]float64, error) {
			n := sz.ScaleN
			// stderr into stdout: one pipe and one log file fewer per
			// program, so that 5,000 fit where the hard RLIMIT_NOFILE is
			// 20,000 and cannot be raised.
			progs := sleepers(n, e.sleepBin, 1, "")
			for i := range progs {
				progs[i].RedirectStderr = true
			}
			d, err := startWithPrograms(ctx, k, benchConfig{Dir: dir, Programs: progs})
			if err != nil {
				return nil, err
			}
			defer d.kill()
			if err := d.waitAllRunning(ctx, programName(n-1), runningLimit(n)); err != nil {
				return nil, err
			}
			running := time.Since(d.launched)
			cpu, err := idleCPU(ctx, d, sz.IdleSecs)
			if err != nil {
				return nil, err
			}
			rss, peak, err := memMB(d.pid)
			if err != nil {
				return nil, err
			}
			status, err := timeStatus(ctx, []string{e.pyCtl, "-c", d.cfg.file()}, 3)
			if err != nil {
				return nil, err
			}
			return map[string]float64{"running": running.Seconds(), "rss": rss, "peak_rss": peak,
				"cpu": cpu, "status": status}, nil
		}}
}

// runningLimit is how long n programs may take to be RUNNING: Python's
// supervisord needs tens of milliseconds a spawn on a loaded machine.
func runningLimit(n int) time.Duration {
	return max(120*time.Second, time.Duration(n)*200*time.Millisecond)
}

// raiseFDLimit makes RLIMIT_NOFILE at least n, soft and hard (root may
// raise the hard limit), for this process and the daemons it starts. When
// the hard limit cannot be raised (no CAP_SYS_RESOURCE, as in some
// containers), the soft limit goes up to the hard one and fdCeiling is set
// to it, so that the configurations' minfds stays within reach.
func raiseFDLimit(n int) error {
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		return fmt.Errorf("read RLIMIT_NOFILE: %w", err)
	}
	if lim.Cur >= uint64(n) {
		return nil
	}
	want := unix.Rlimit{Cur: uint64(n), Max: max(lim.Max, uint64(n))}
	err := unix.Setrlimit(unix.RLIMIT_NOFILE, &want)
	switch {
	case err == nil:
		return nil
	case lim.Max >= uint64(n):
		return fmt.Errorf("raise RLIMIT_NOFILE to %d (the largest scenarios may run short of descriptors): %w", n, err)
	}
	lim.Cur = lim.Max
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		return fmt.Errorf("raise RLIMIT_NOFILE to its hard limit %d: %w", lim.Max, err)
	}
	fdCeiling = int(min(lim.Max, math.MaxInt32))
	return fmt.Errorf("RLIMIT_NOFILE stays at its hard limit %d, under the %d the largest scenarios ask for (minfds capped to it): %w", lim.Max, n, err)
}
