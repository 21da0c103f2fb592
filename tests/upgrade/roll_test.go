package upgrade_test

import (
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// rollingPool is a pool of three workers that each take about 2 s to stop
// (they finish a "job" on SIGTERM) and 1 s to count as started: a rolling
// restart of it lasts long enough to upgrade in its middle.
const rollingPool = `[program:w]
command=sh -c 'trap "sleep 2; exit 0" TERM; while :; do sleep 0.1; done'
process_name=%(program_name)s_%(process_num)s
numprocs=3
startsecs=1
stopwaitsecs=20
`

// A rolling restart in progress is handed over: the new image resumes it
// where it stood and finishes it. Every worker of the pool is replaced
// exactly once (each spawned twice in all: at the start and by the roll),
// the surge worker keeps its pid across the switch and is gone at the end,
// the workers already replaced and those not yet replaced keep their pids
// across the switch, the other programs are untouched, and RUNNING workers
// of the pool never drop below three (sampled).
func TestRollingRestartAcrossUpgrade(t *testing.T) {
	rollAcrossUpgrade(t, "restart", "--rolling", "w")
}

// The same with a rolling update that changes the workers' command: the
// workers it has yet to replace at the switch still run the old command,
// which the new image lets through and replaces; at the end every worker
// runs the new one and the group has the file's config (reread: no change).
func TestRollingUpdateAcrossUpgrade(t *testing.T) {
	r := rollAcrossUpgrade(t, "update", "--rolling", "w")
	for name, pid := range r.statusPids() {
		if !strings.HasPrefix(name, "w:") {
			continue
		}
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if !strings.Contains(string(cmdline), newWorkerCommand) {
			t.Errorf("%s (pid %d) runs %q, want the new command", name, pid, cmdline)
		}
	}
	if out, _ := r.ctl("reread"); !strings.Contains(out, "No config updates to processes") {
		t.Errorf("reread after the rolling update: %s", out)
	}
}

// newWorkerCommand is what a rolling update gives rollingPool's workers.
const newWorkerCommand = "sleep 0.11"

// rollAcrossUpgrade runs rollingPool, starts the roll ctlArgs asks for
// ("update" first changes the workers' command in the file), upgrades
// the daemon once the roll has replaced one worker, and checks what
// TestRollingRestartAcrossUpgrade says. It returns the rig.
func rollAcrossUpgrade(t *testing.T, ctlArgs ...string) *rig {
	good := build(t, "good", "-X github.com/drover/drover/internal/version.Build=before")
	r := newRig(t, good, rollingPool, 3)
	before := r.running()
	if ctlArgs[0] == "update" {
		conf, err := os.ReadFile(r.conf)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(r.conf, []byte(strings.Replace(string(conf), "sleep 0.1;", newWorkerCommand+";", 1)), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	least, samples := 3, 0
	stopSampling := sampleEvery(100*time.Millisecond, func() {
		out, code := r.ctl("status", "w:*")
		if code != 0 && !strings.Contains(out, "w:w_") {
			return // the switch: no answer is not a count
		}
		least, samples = min(least, strings.Count(out, " RUNNING ")), samples+1
	})

	roll := exec.Command(r.ctlBin, append([]string{"ctl", "-c", r.conf}, ctlArgs...)...)
	var rollOut strings.Builder
	roll.Stdout, roll.Stderr = &rollOut, &rollOut
	if err := roll.Start(); err != nil {
		t.Fatal(err)
	}
	rollDone := make(chan error, 1)
	go func() { rollDone <- roll.Wait() }()
	r.waitLog(regexp.MustCompile(`rolling restart of w: replacing w_1 \(2 of 3\)`))
	mid := r.statusPids()
	if mid["w:w_5"] == 0 || mid["w:w_0"] == before["w:w_0"] {
		t.Fatalf("before the upgrade the roll should have its surge worker up and w_0 replaced: %v", mid)
	}
	if out, code := r.ctl("upgrade"); code != 0 || !strings.Contains(out, "upgraded: drover before is running") {
		t.Fatalf("upgrade during a rolling restart: exit %d:\n%s", code, out)
	}
	after := r.statusPids()
	for _, name := range []string{"w:w_0", "w:w_2", "w:w_5", "sleeper:sleeper_0", "sleeper:sleeper_1", "counter"} {
		if after[name] != mid[name] {
			t.Errorf("%s: pid %d after the upgrade, was %d", name, after[name], mid[name])
		}
	}
	r.waitLog(regexp.MustCompile(`rolling restart of w: resumed after the upgrade, [12] of 3 replaced`))
	r.waitLog(regexp.MustCompile(`(?s)resumed after the upgrade.*rolling restart of w: stopping the surge worker`))
	// Its client lost its connection with the old image's servers, and
	// follows the roll in the new image to its end.
	select {
	case err := <-rollDone:
		want := "w: drover before took the roll over in an upgrade; waiting for it to finish\n"
		if err != nil || !strings.Contains(rollOut.String(), want) {
			t.Errorf("%v: %v:\n%s\nwant it to say %q and succeed", ctlArgs, err, rollOut.String(), want)
		}
		t.Logf("%v:\n%s", ctlArgs, rollOut.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("%v did not end with the roll", ctlArgs)
	}
	end := r.running() // three workers and the other programs: the surge worker is gone
	stopSampling()
	if _, ok := end["w:w_5"]; ok {
		t.Errorf("the surge worker is still there: %v", end)
	}
	for _, name := range []string{"w:w_0", "w:w_1", "w:w_2"} {
		if end[name] == before[name] {
			t.Errorf("%s was not replaced (pid %d)", name, end[name])
		}
	}
	if end["w:w_0"] != mid["w:w_0"] {
		t.Errorf("w_0, replaced before the upgrade, was replaced again: pid %d, was %d", end["w:w_0"], mid["w:w_0"])
	}
	for _, name := range []string{"sleeper:sleeper_0", "sleeper:sleeper_1", "counter"} {
		if end[name] != before[name] {
			t.Errorf("%s: pid %d at the end, was %d", name, end[name], before[name])
		}
	}
	log, _ := os.ReadFile(r.mainLog)
	for _, line := range strings.Split(string(log), "\n") {
		if strings.Contains(line, "rolling restart of w") || strings.Contains(line, "took over") {
			t.Log(line)
		}
	}
	for name, want := range map[string]int{"w_0": 2, "w_1": 2, "w_2": 2, "w_5": 1} {
		if got := strings.Count(string(log), "spawned: '"+name+"' with pid"); got != want {
			t.Errorf("%s spawned %d times, want %d", name, got, want)
		}
	}
	if samples < 10 || least < 3 {
		t.Errorf("RUNNING workers of w: at least %d in %d samples, want never below 3", least, samples)
	}
	return r
}

// sampleEvery calls sample every d in a goroutine of its own until stop,
// which returns once the last call has: the test reads what sample wrote
// only after stop.
func sampleEvery(d time.Duration, sample func()) (stop func()) {
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-quit:
				return
			case <-time.After(d):
			}
			sample()
		}
	}()
	return func() { close(quit); <-done }
}

// statusPids returns the pid of every process that has one, RUNNING or not.
func (r *rig) statusPids() map[string]int {
	r.t.Helper()
	out, _ := r.ctl("status")
	pids := map[string]int{}
	for _, m := range statusRe.FindAllStringSubmatch(out, -1) {
		var pid int
		for _, c := range m[3] {
			pid = pid*10 + int(c-'0')
		}
		pids[m[1]] = pid
	}
	return pids
}

// waitLog waits until the main log matches re.
func (r *rig) waitLog(re *regexp.Regexp) {
	r.t.Helper()
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		b, _ := os.ReadFile(r.mainLog)
		if re.Match(b) {
			return
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("the main log never matched %q", re)
		}
	}
}
