package laravel_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The workers run as www-data, their output (stdout and, redirected, stderr)
// lands in stdout_logfile, which both processes share, and `supervisorctl
// tail -f` follows it until interrupted.
func TestWorkersRunAsWwwDataAndLogIsFollowed(t *testing.T) {
	l := newLab(t, program{numprocs: 2, stopwaitsecs: 10, timeout: 60})
	drv, py := l.drv(), l.py()
	pids := l.waitRunning(drv, 2)

	wantCmdline := "php\x00" + filepath.Join(appDir, "artisan") + "\x00queue:work\x00redis\x00--tries=3\x00--timeout=60\x00"
	ids := fmt.Sprintf("%d\t%d\t%d\t%d", l.www.Uid, l.www.Uid, l.www.Uid, l.www.Uid)
	gids := fmt.Sprintf("%d\t%d\t%d\t%d", l.www.Gid, l.www.Gid, l.www.Gid, l.www.Gid)
	for name, pid := range pids {
		status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			t.Fatalf("%s (pid %d): %v", name, pid, err)
		}
		if !strings.Contains(string(status), "\nUid:\t"+ids+"\n") || !strings.Contains(string(status), "\nGid:\t"+gids+"\n") {
			t.Errorf("%s (pid %d) does not run as www-data:\n%s", name, pid, status)
		}
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if string(cmdline) != wantCmdline {
			t.Errorf("%s (pid %d) runs %q, want %q", name, pid, cmdline, wantCmdline)
		}
	}

	// One follower per client, each on another process of the group: both
	// follow the same shared file.
	banner := "==> Press Ctrl-C to exit <==\n"
	followers := map[string]*follower{
		"drover supervisorctl symlink": l.follow([]string{filepath.Join(filepath.Dir(droverBin), "supervisorctl"), "-c", l.conf, "tail", "-f", procName(0)}),
		"python supervisorctl":         l.follow([]string{pythonSupervisorctl, "-c", l.conf, "tail", "-f", procName(1)}),
	}
	for name, f := range followers {
		l.waitFor(name+" tail -f banner", 30*time.Second, func() bool { return strings.HasPrefix(f.output(), banner) })
	}

	const n = 20
	jobs := l.dispatch("t", n, 20)
	r := l.waitAllDone(jobs, 60*time.Second)
	l.checkExactlyOnce(r, jobs)
	for id, done := range r.done {
		if !slices.ContainsFunc(done, func(pid int) bool { return pid == pids[procName(0)] || pid == pids[procName(1)] }) {
			t.Errorf("job %s done by pid %v, not by a supervised worker %v", id, done, pids)
		}
	}

	// Every line of the file is whole: the two processes append, neither
	// overwrites the other.
	line := regexp.MustCompile(`^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\]\[[0-9A-Za-z-]+\] (Processing|Processed): +App\\Jobs\\ProcessThing$`)
	var processed int
	l.waitFor("the worker log to show every job Processed", 30*time.Second, func() bool {
		data, _ := os.ReadFile(l.workerLog)
		processed = strings.Count(string(data), "Processed:")
		return processed >= n
	})
	data, _ := os.ReadFile(l.workerLog)
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	for _, ln := range lines {
		if !line.MatchString(ln) {
			t.Errorf("worker log: unexpected line %q", ln)
		}
	}
	if len(lines) != 2*n || processed != n {
		t.Errorf("worker log: %d lines, %d Processed, want %d and %d", len(lines), processed, 2*n, n)
	}

	for name, f := range followers {
		l.waitFor(name+" tail -f to show every job Processed", 30*time.Second, func() bool {
			return strings.Count(f.output(), "Processed:") >= n
		})
		if got := strings.Count(f.output(), "Processed:"); got != n {
			t.Errorf("%s tail -f: %d Processed lines, want %d:\n%s", name, got, n, f.output())
		}
		f.cmd.Process.Signal(syscall.SIGINT) // Ctrl-C
		select {
		case <-f.exited:
		case <-time.After(30 * time.Second):
			t.Errorf("%s tail -f still running 30 s after SIGINT", name)
		}
	}

	// Plain tail reads the same file through either client.
	for _, c := range []client{drv, py} {
		out := l.mustCtl(c, 0, "tail", procName(0))
		if !strings.Contains(out, "Processed:") {
			t.Errorf("%s tail %s: no Processed line in\n%s", c.name, procName(0), out)
		}
	}
}

// statusLines is `supervisorctl status` of the group, one line per process,
// for messages.
func (l *lab) statusText(c client) string {
	out, _ := l.ctl(c, "status")
	return out
}

func itoa(i int) string { return strconv.Itoa(i) }
