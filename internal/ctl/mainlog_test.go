package ctl

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/drover/drover/internal/client"
)

// mainLogNormalisers reduce a main log line to what must match between
// servers: no timestamp, pid, temp dir or AUTO log name.
var mainLogNormalisers = []substitution{
	{regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} `), ""},
	{regexp.MustCompile(`pid \d+`), "pid N"},
	{regexp.MustCompile(`/tmp/drv\d+`), "DIR"},
}

// mainLogLines returns the normalised lines of d's main log, sorted: the
// order of lines of different processes depends on timing, their texts and
// counts do not. "waiting for x to stop" depends on how fast a child dies
// and is left out.
func mainLogLines(t *testing.T, d *daemon) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(d.dir, "main.log"))
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for line := range strings.Lines(string(data)) {
		line = substitute(line, mainLogNormalisers)
		if strings.HasPrefix(line, "INFO waiting for ") && strings.HasSuffix(line, " to stop\n") {
			continue
		}
		lines = append(lines, line)
	}
	slices.Sort(lines)
	return lines
}

// waitExited waits (bounded) until d's supervisord removed its pidfile on
// the way out.
func (d *daemon) waitExited(t *testing.T) {
	t.Helper()
	pidfile := filepath.Join(d.dir, "sd.pid")
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if _, err := os.Stat(pidfile); os.IsNotExist(err) {
			return
		}
	}
	t.Fatalf("supervisord in %s did not exit", d.dir)
}

// TestGoldenMainLog runs one script against Python's supervisord and
// Drover and compares what each wrote to its main log.
func TestGoldenMainLog(t *testing.T) {
	t.Parallel()
	needServer(t, pythonServer)
	// crash exits at once: its startsecs is long for the reason failer's is
	// (programs). expected exits a second after its startsecs, so that even
	// a loaded Drover handles its startsecs timer before its exit (Python's
	// loop judges a process before it reaps it, and logs "success:"), and
	// it has exited before "stop all" (start manual and update each wait a
	// startsecs first).
	const extra = `
[program:crash]
command=/bin/sh -c "exit 3"
autostart=false
startretries=2
startsecs=10
[program:expected]
command=/bin/sh -c "sleep 2; exit 2"
autostart=false
exitcodes=2
`
	ds := make([]*daemon, len(servers))
	var wg sync.WaitGroup
	for i, s := range servers {
		wg.Go(func() { ds[i] = startDaemon(t, *s, extra, 0) })
	}
	wg.Wait()
	if slices.Contains(ds, nil) {
		t.FailNow()
	}
	script := []string{
		"stop cat", "start cat", "restart cat", "stop grp:*", "start grp:*", "start nofile", "start failer",
		"start crash", "start expected", "signal HUP cat", "clear cat", "stop manual", "start manual",
		"reread", "update", "stop all", "start worker:*", "shutdown",
	}
	for _, line := range script {
		if line == "reread" { // manual changed, named removed, added added
			changed := strings.Replace(programs, "command=/bin/sleep 1000\nautostart=false", "command=/bin/sleep 1001\nautostart=false", 1)
			changed = changed[:strings.Index(changed, "[program:named]")]
			for _, d := range ds {
				d.rewrite(t, 0, changed+extra+"[program:added]\ncommand=/bin/sleep 1000\n")
			}
		}
		args := strings.Fields(line)
		var wg sync.WaitGroup
		for _, d := range ds {
			wg.Go(func() { runOurs(t, "", append([]string{"-s", d.url}, args...)...) })
		}
		wg.Wait()
		if line == "shutdown" {
			break
		}
		for _, d := range ds {
			if err := d.settle(); err != nil {
				t.Fatal(err)
			}
		}
		if line == "start crash" { // until FATAL (BACKOFF 1, 2 s)
			for _, d := range ds {
				d.waitState(t, "crash", "FATAL")
			}
		}
	}
	for _, d := range ds {
		d.waitExited(t)
	}
	want, got := mainLogLines(t, ds[0]), mainLogLines(t, ds[1])
	if !slices.Equal(want, got) {
		if why := tooLoaded(want); why != "" {
			t.Skipf("the machine is too loaded to judge by: %s", why)
		}
		var diff strings.Builder
		for _, l := range want {
			if !slices.Contains(got, l) {
				fmt.Fprintf(&diff, "- %s", l)
			}
		}
		for _, l := range got {
			if !slices.Contains(want, l) {
				fmt.Fprintf(&diff, "+ %s", l)
			}
		}
		t.Errorf("main logs differ (- supervisord, + drover; sorted):\n%s\nsupervisord:\n%s\ndrover:\n%s",
			diff.String(), strings.Join(want, ""), strings.Join(got, ""))
	}
}

// waitState polls (bounded) until process name is in state.
func (d *daemon) waitState(t *testing.T, name, state string) {
	t.Helper()
	cl := client.New(d.url, "", "")
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if info, err := cl.ProcessInfo(t.Context(), name); err == nil && info.StateName == state {
			return
		}
	}
	t.Fatalf("%s in %s never reached %s", name, d.dir, state)
}

// tooLoaded says what, in supervisord's sorted main log lines, only a
// machine too loaded to judge by produces: Python's loop ticking quick
// (startsecs=0) only after it has already exited, so that no "success:"
// line is written. Drover, reaping on a pidfd, does not. (failer and crash,
// which exit at once, have a startsecs long enough that no load makes
// Python count them as started: see programs.)
func tooLoaded(lines []string) string {
	count := func(prefix string) int {
		n := 0
		for _, l := range lines {
			if strings.HasPrefix(l, prefix) {
				n++
			}
		}
		return n
	}
	if spawned, success := count("INFO spawned: 'quick' "), count("INFO success: quick "); spawned > success {
		return fmt.Sprintf("supervisord spawned quick %d times and saw it RUNNING %d times", spawned, success)
	}
	return ""
}
