package laravel_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	rpcclient "github.com/drover/drover/internal/client"
	"github.com/drover/drover/tests/laravelenv"
)

// The in-place upgrade (issue 17, docs/upgrade.md) under a job load: the
// daemon execs a drover built with another version string, then goes back.
// Across each switch every worker keeps its pid, every job is done exactly
// once, a numbered output loses and repeats no line, and the daemon answers
// a status call every 50 ms without one refused connection.
func TestUpgradeInPlaceUnderLoad(t *testing.T) {
	if reference {
		t.Skip("the in-place upgrade is Drover's")
	}
	if skipReason != "" {
		t.Skip(skipReason)
	}
	binDir := laravelenv.TempDir(t, "drover-upgrade")
	builds := map[string]string{}
	for _, b := range []string{"upgrade-test-1", "upgrade-test-2"} {
		builds[b] = filepath.Join(binDir, b)
		laravelenv.BuildDrover(t, builds[b], "-X github.com/drover/drover/internal/version.Build="+b)
	}
	installed := filepath.Join(binDir, "drover")
	laravelenv.Install(t, builds["upgrade-test-1"], installed)
	const workers = 3
	l := newLab(t, program{numprocs: workers, stopwaitsecs: 30, timeout: 60, daemonBin: installed})
	drv := l.drv()
	// A plain writer of numbered lines, as fast as PHP prints.
	counterLog, counterPHP := filepath.Join(l.dir, "counter.log"), filepath.Join(l.dir, "counter.php")
	program := `<?php for ($i = 1; ; $i++) { echo "$i\n"; if ($i % 200 == 0) usleep(2000); }`
	counter := fmt.Sprintf("[program:counter]\ncommand=php %s\nstdout_logfile=%s\nstdout_logfile_maxbytes=0\n", counterPHP, counterLog)
	for path, text := range map[string]string{counterPHP: program, filepath.Join(l.dir, "conf.d", "counter.conf"): counter} {
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	l.mustCtl(drv, 0, "update")
	pids := l.waitAllRunning(workers + 1)

	poll := startStatusPoller(t, l.sock)
	var allJobs []string
	for i, to := range []string{"upgrade-test-2", "upgrade-test-1"} {
		prefix := fmt.Sprintf("u%d-", i)
		jobs, dispatched := l.dispatchAsync(prefix, 120, 40)
		l.waitFor("jobs being worked", 60*time.Second, func() bool { return l.jobs().doneCount() > 0 })
		laravelenv.Install(t, builds[to], installed)
		t.Logf("%s: upgrading to %s", time.Now().Format("15:04:05.000"), to)
		out := l.mustCtl(drv, 0, "upgrade")
		if !strings.Contains(out, "upgraded: drover "+to+" is running") {
			t.Fatalf("upgrade to %s: %q", to, out)
		}
		dispatched()
		allJobs = append(allJobs, jobs...)
		r := l.waitAllDone(jobs, 120*time.Second)
		l.checkExactlyOnce(r, allJobs)
		if got := droverBuild(t, l.sock); got != to {
			t.Errorf("drover.getVersion after the upgrade: %q, want %q", got, to)
		}
		for name, st := range l.status(drv) {
			if st.state != "RUNNING" || st.pid != pids[name] {
				t.Errorf("after the upgrade to %s: %s %s pid %d, want RUNNING pid %d", to, name, st.state, st.pid, pids[name])
			}
		}
	}
	polls, failures := poll()
	if len(failures) > 0 {
		t.Errorf("%d of %d status calls failed during the upgrades (the main log's times tell where in the switch): %v",
			len(failures), polls, failures[:min(len(failures), 10)])
	}
	t.Logf("%d status calls, none failed", polls)
	l.mustCtl(drv, 0, "stop", "counter")
	checkNumbered(t, counterLog)
	if log := l.mainLogText(); strings.Count(log, "took over from drover") != 2 {
		t.Errorf("main log: want two take-overs:\n%s", log)
	}
}

// waitAllRunning waits until the daemon has exactly n processes, all
// RUNNING, and returns their pids by name.
func (l *lab) waitAllRunning(n int) map[string]int {
	l.t.Helper()
	pids := map[string]int{}
	l.waitFor(fmt.Sprintf("%d processes RUNNING", n), 60*time.Second, func() bool {
		st := l.status(l.drv())
		clear(pids)
		for name, ps := range st {
			if ps.state != "RUNNING" {
				return false
			}
			pids[name] = ps.pid
		}
		return len(st) == n
	})
	return pids
}

// rpc runs one call with a new client, so on a new connection (as every
// supervisorctl run makes one).
func rpc[T any](sock string, call func(*rpcclient.Client, context.Context) (T, error)) (T, error) {
	c := rpcclient.New("unix://"+sock, "", "")
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return call(c, ctx)
}

// startStatusPoller calls getAllProcessInfo every 50 ms until the returned
// stop is called, which reports how many calls were made and which failed.
func startStatusPoller(t *testing.T, sock string) (stop func() (int, []error)) {
	t.Helper()
	done := make(chan struct{})
	var (
		wg       sync.WaitGroup
		polls    int
		failures []error
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			polls++
			if infos, err := rpc(sock, (*rpcclient.Client).AllProcessInfo); err != nil {
				failures = append(failures, fmt.Errorf("%s: %w", time.Now().Format("15:04:05.000"), err))
			} else if len(infos) == 0 {
				failures = append(failures, fmt.Errorf("%s: no process info", time.Now().Format("15:04:05.000")))
			}
		}
	}()
	return func() (int, []error) {
		close(done)
		wg.Wait()
		return polls, failures
	}
}

// droverBuild is the daemon's build (drover.getVersion).
func droverBuild(t *testing.T, sock string) string {
	t.Helper()
	v, err := rpc(sock, (*rpcclient.Client).Version)
	if err != nil {
		t.Fatal(err)
	}
	return v.Build
}

// checkNumbered checks that path holds the lines 1, 2, 3, … with none
// missing or repeated.
func checkNumbered(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	want := 1
	for sc.Scan() {
		n, err := strconv.Atoi(sc.Text())
		if err != nil || n != want {
			t.Fatalf("%s: line %d is %q, want %d", path, want, sc.Text(), want)
		}
		want++
	}
	if want < 1000 {
		t.Errorf("%s: only %d lines", path, want-1)
	}
	t.Logf("%s: lines 1 to %d, none missing or repeated", path, want-1)
}
