package laravel_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
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

	// The status lines of the how-to, and its classic slip: the group name
	// alone names no process.
	statusLine := regexp.MustCompile(`^laravel-worker:laravel-worker_0[01]   RUNNING   pid \d+, uptime \d+:\d\d:\d\d$`)
	for _, c := range []client{drv, py} {
		out := l.mustCtl(c, 0, "status")
		for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
			if !statusLine.MatchString(line) {
				t.Errorf("%s status: line %q", c.name, line)
			}
		}
		if out := l.mustCtl(c, 1, "stop", group); out != group+": ERROR (no such process)\n" {
			t.Errorf("%s stop %s: got %q", c.name, group, out)
		}
	}

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

// A worker killed with SIGKILL is restarted by autorestart, and the job it
// had reserved, whose first attempt never finished, is run again by Laravel
// once retry_after has passed, and ends done exactly once.
func TestKilledWorkerIsRestartedAndItsJobRetried(t *testing.T) {
	// --timeout below retry_after, as Laravel requires; jobs well within
	// both. Idle workers wait on Redis (block_for) instead of polling every
	// 3 s, so both take a job as soon as it is queued.
	l := newLab(t, program{numprocs: 2, stopwaitsecs: 10, timeout: 5, retryAfter: 6, blockFor: 1})
	drv, py := l.drv(), l.py()
	before := l.waitRunning(py, 2)

	// Four 4 s jobs for two workers: both are busy at once for 4 s.
	jobs := l.dispatch("k", 4, 4000)
	l.waitFor("both workers running a job", 60*time.Second, func() bool {
		return l.redisInt("ZCARD", reservedKey) == 2
	})
	if r := l.jobs(); r.doneCount() != 0 {
		t.Fatalf("a 4 s job finished before the second one was reserved: %v", r.done)
	}
	victim := before[procName(0)]
	if err := syscall.Kill(victim, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}

	t.Logf("killed %s (pid %d) while it ran a job", procName(0), victim)
	var after int
	l.waitFor(procName(0)+" RUNNING again with a new pid", 60*time.Second, func() bool {
		st := l.status(drv)[procName(0)]
		after = st.pid
		return st.state == "RUNNING" && st.pid != victim
	})
	if pid := l.status(py)[procName(1)].pid; pid != before[procName(1)] {
		t.Errorf("%s was restarted too: pid %d, was %d", procName(1), pid, before[procName(1)])
	}
	main := readFrom(t, l.mainLog, 0)
	for _, want := range []string{
		"WARN exited: laravel-worker_00 (terminated by SIGKILL; not expected)",
		fmt.Sprintf("INFO spawned: 'laravel-worker_00' with pid %d", after),
	} {
		if !strings.Contains(main, want) {
			t.Errorf("main log lacks %q", want)
		}
	}

	t.Logf("%s restarted with pid %d", procName(0), after)
	r := l.waitAllDone(jobs, 120*time.Second)
	t.Logf("all jobs done: %v", r.done)
	l.checkExactlyOnce(r, jobs)
	for id, pids := range r.done {
		if slices.Contains(pids, victim) {
			t.Errorf("job %s done by the killed worker %d", id, victim)
		}
	}
	// The killed attempt printed Processing: and never Processed:.
	l.checkAttempts(len(jobs)+1, len(jobs))

	// stopwaitsecs shorter than a job: stop escalates to SIGKILL, the
	// attempt is lost, and retry_after brings the job back.
	l.prog.stopwaitsecs = 1
	l.writeProgram()
	if out := l.mustCtl(drv, 0, "update"); out != group+": stopped\n"+group+": updated process group\n" {
		t.Errorf("update: got %q", out)
	}
	l.waitRunning(drv, 2)
	slow := l.dispatch("slow", 1, 3000)
	jobs = append(jobs, slow...)
	l.waitFor("the 3 s job to be reserved", 60*time.Second, func() bool {
		return l.redisInt("ZCARD", reservedKey) == 1
	})
	mark := fileSize(t, l.mainLog)
	expectLines(t, "stop with stopwaitsecs=1", l.mustCtl(py, 0, "stop", group+":*"), eachLine(2, "stopped")...)
	if n := len(l.jobs().done[slow[0]]); n != 0 {
		t.Errorf("the 3 s job was done although its worker was killed after stopwaitsecs=1")
	}
	// The busy worker was killed after stopwaitsecs. (Python's supervisord
	// may log "killing" for the idle one too: it reaps on its 1 s tick.)
	log := readFrom(t, l.mainLog, mark)
	victimLine := regexp.MustCompile(`WARN stopped: (laravel-worker_0[01]) \(terminated by SIGKILL\)`).FindStringSubmatch(log)
	if victimLine == nil || !regexp.MustCompile(`WARN killing '`+victimLine[1]+`' \(\d+\) with SIGKILL`).MatchString(log) {
		t.Errorf("main log after stop: want a worker killed with SIGKILL after stopwaitsecs, got\n%s", log)
	}
	expectLines(t, "start", l.mustCtl(drv, 0, "start", group+":*"), eachLine(2, "started")...)
	r = l.waitAllDone(jobs, 120*time.Second)
	l.checkExactlyOnce(r, jobs)
	l.checkAttempts(len(jobs)+2, len(jobs))
}

// checkAttempts checks the counts of Processing: and Processed: lines in the
// worker log (each attempt prints the first, each success the second).
func (l *lab) checkAttempts(processing, processed int) {
	l.t.Helper()
	var data []byte
	l.waitFor("the worker log to show every job Processed", 30*time.Second, func() bool {
		data, _ = os.ReadFile(l.workerLog)
		return strings.Count(string(data), "Processed:") >= processed
	})
	if p, d := strings.Count(string(data), "Processing:"), strings.Count(string(data), "Processed:"); p != processing || d != processed {
		l.t.Errorf("worker log: %d Processing and %d Processed lines, want %d and %d", p, d, processing, processed)
	}
}

// Hundreds of jobs are queued while the group is restarted, stopped and
// started, resized through reread + update, and the daemon reloaded; each ends done exactly once,
// because every stop is a SIGTERM after which the worker finishes its job,
// within stopwaitsecs.
func TestJobsDoneExactlyOnceThroughRestartStopStartUpdate(t *testing.T) {
	l := newLab(t, program{numprocs: 2, stopwaitsecs: 10, timeout: 60, dropInLater: true})
	drv, py := l.drv(), l.py()

	// The how-to: drop laravel-worker.conf into conf.d, reread, update, start.
	l.writeProgram()
	if out := l.mustCtl(drv, 0, "reread"); out != group+": available\n" {
		t.Errorf("reread: got %q", out)
	}
	if out := l.mustCtl(py, 0, "update"); out != group+": added process group\n" {
		t.Errorf("update: got %q", out)
	}
	// autostart spawns them on the daemon's next turn: start finds them
	// starting (no output) or still stopped (started).
	if out := l.mustCtl(drv, 0, "start", group+":*"); out != "" {
		expectLines(t, "start after update", out, eachLine(2, "started")...)
	}
	l.waitRunning(py, 2)
	var all []string

	// ops runs one group operation while the next batch is being dispatched
	// and the previous one is being worked off.
	batch := 0
	during := func(op func()) {
		t.Helper()
		batch++
		prefix := string(rune('a' + batch - 1))
		ids, wait := l.dispatchAsync(prefix, 100, 20+10*batch) // 30..70 ms jobs
		all = append(all, ids...)
		start := l.jobs().doneCount()
		l.waitFor("work on the new batch", 60*time.Second, func() bool {
			return l.jobs().doneCount() > start
		})
		if n := l.redisInt("LLEN", queueKey); n == 0 {
			t.Logf("batch %s: queue already empty before the operation", prefix)
		}
		op()
		wait()
	}

	during(func() {
		out := l.mustCtl(py, 0, "restart", group+":*")
		lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
		if len(lines) != 4 {
			t.Fatalf("restart: got\n%s", out)
		}
		expectLines(t, "restart (stop half)", strings.Join(lines[:2], "\n"), eachLine(2, "stopped")...)
		expectLines(t, "restart (start half)", strings.Join(lines[2:], "\n"), eachLine(2, "started")...)
	})
	during(func() {
		expectLines(t, "stop", l.mustCtl(drv, 0, "stop", group+":*"), eachLine(2, "stopped")...)
		for name, st := range l.status(py) {
			if st.state != "STOPPED" {
				t.Errorf("after stop: %s is %s", name, st.state)
			}
		}
		expectLines(t, "start", l.mustCtl(py, 0, "start", group+":*"), eachLine(2, "started")...)
	})
	during(func() {
		l.prog.numprocs = 4
		l.writeProgram()
		if out := l.mustCtl(drv, 0, "reread"); out != group+": changed\n" {
			t.Errorf("reread: got %q", out)
		}
		if out := l.mustCtl(py, 0, "update"); out != group+": stopped\n"+group+": updated process group\n" {
			t.Errorf("update: got %q", out)
		}
		l.waitRunning(py, 4)
	})
	during(func() {
		l.prog.numprocs = 3
		l.writeProgram()
		if out := l.mustCtl(py, 0, "update", group); out != group+": stopped\n"+group+": updated process group\n" {
			t.Errorf("update %s: got %q", group, out)
		}
		l.waitRunning(drv, 3)
	})
	during(func() {
		// reload (SIGHUP, `systemctl reload`): every worker is stopped
		// gracefully, the configuration read again, the workers started.
		if out := l.mustCtl(drv, 0, "reload"); out != "Restarted supervisord\n" {
			t.Errorf("reload: got %q", out)
		}
		l.waitAnswering(py)
		l.waitRunning(py, 3)
	})
	r := l.waitAllDone(all, 120*time.Second)
	l.checkExactlyOnce(r, all)

	// A 3 s job running when `stop` comes: stop sends SIGTERM, waits (up to
	// stopwaitsecs=10) while the worker finishes the job, and only then
	// reports stopped.
	long := l.dispatch("long", 1, 3000)
	all = append(all, long...)
	l.waitFor("the long job to be reserved", 60*time.Second, func() bool {
		return l.redisInt("ZCARD", reservedKey) == 1
	})
	expectLines(t, "stop during a 3 s job", l.mustCtl(py, 0, "stop", group+":*"), eachLine(3, "stopped")...)
	if n := len(l.jobs().done[long[0]]); n != 1 {
		t.Errorf("after stop returned, the 3 s job has %d done lines, want 1", n)
	}
	expectLines(t, "start", l.mustCtl(drv, 0, "start", group+":*"), eachLine(3, "started")...)
	r = l.waitAllDone(all, 60*time.Second)
	l.checkExactlyOnce(r, all)

	// `systemctl stop` (SIGTERM to the daemon) during a 3 s job: the daemon
	// stops the workers the same way, then exits 0.
	final := l.dispatch("final", 1, 3000)
	all = append(all, final...)
	l.waitFor("the last job to be reserved", 60*time.Second, func() bool {
		return l.redisInt("ZCARD", reservedKey) == 1
	})
	if err := l.stopDaemon(); err != nil {
		t.Errorf("daemon after SIGTERM: %v", err)
	}
	l.checkExactlyOnce(l.jobs(), all)

	// A worker SIGTERMed while php still boots dies of it (it has no job
	// yet); none may ever be killed.
	if main := readFrom(t, l.mainLog, 0); strings.Contains(main, "SIGKILL") {
		t.Errorf("a worker was killed with SIGKILL; main log:\n%s", main)
	}
}

// With redis-server gone, the workers exit; autorestart restarts them, the
// new ones exit at once (startsecs not reached): BACKOFF after 1, 2, 3 s,
// then FATAL after startretries+1 attempts, exactly as Supervisor does.
// `start` then reports a spawn error while Redis is down, and brings the
// group back once it is up again.
//
// startsecs=5 (the how-to leaves Supervisor's 1): a worker that cannot reach
// Redis fails within 0.3 s on an idle machine, but took up to 6 s with a load
// average of 18 on 2 CPUs. An attempt that outlives startsecs counts as
// having run (EXITED, restarted at once, backoff count reset), under
// Supervisor and Drover alike; checkCrashLoop allows for that, but with
// startsecs=1 a loaded machine might never reach FATAL.
func TestRedisDownBackoffFatalAndRecovery(t *testing.T) {
	const startsecs = 5 * time.Second
	l := newLab(t, program{numprocs: 2, stopwaitsecs: 10, timeout: 60, startsecs: int(startsecs / time.Second)})
	drv, py := l.drv(), l.py()
	l.waitRunning(drv, 2)
	jobs := l.dispatch("r", 10, 10)
	l.checkExactlyOnce(l.waitAllDone(jobs, 60*time.Second), jobs)

	mark := fileSize(t, l.mainLog)
	l.stopRedis()
	seen := l.waitFatal(drv, py)
	for _, name := range procNames(2) {
		if !seen[name]["BACKOFF"] {
			t.Errorf("%s: never seen in BACKOFF (seen %v)", name, seen[name])
		}
	}
	for name, st := range l.status(py) {
		if st.desc != tooQuick {
			t.Errorf("status %s: %s %q, want FATAL %q", name, st.state, st.desc, tooQuick)
		}
	}
	if _, code := l.ctl(drv, "status"); code != 3 {
		t.Errorf("status with FATAL processes: exit status %d, want 3", code)
	}
	log := readFrom(t, l.mainLog, mark)
	for i := range 2 {
		// The running worker loses its connection and exits (EXITED,
		// restarted at once); then 4 attempts that exit too quickly.
		checkCrashLoop(t, log, fmt.Sprintf("%s_%02d", group, i), startsecs, true)
	}
	if data, _ := os.ReadFile(l.workerLog); !strings.Contains(string(data), "Connection refused") {
		t.Errorf("worker log has no 'Connection refused' (stderr is redirected to it)")
	}

	// Troubleshooting: starting while Redis is still down.
	mark = fileSize(t, l.mainLog)
	out, code := l.ctl(py, "start", group+":*")
	lines := sortedLines(out)
	if len(lines) != 2 {
		t.Errorf("start while Redis is down: got\n%s", out)
	}
	spawnErrors := 0
	for i, line := range lines {
		name := procName(i)
		switch line {
		case name + ": ERROR (spawn error)":
			spawnErrors++
		case name + ": started":
			// Only if this attempt outlived startsecs (a loaded machine).
			if !strings.Contains(readFrom(t, l.mainLog, mark), "INFO success: "+strings.TrimPrefix(name, group+":")+" entered RUNNING") {
				t.Errorf("start while Redis is down: %q, want %s: ERROR (spawn error)", line, name)
			}
		default:
			t.Errorf("start while Redis is down: %q, want %s: ERROR (spawn error)", line, name)
		}
	}
	if spawnErrors > 0 && code != 7 {
		t.Errorf("start while Redis is down: exit status %d, want 7", code)
	}
	l.waitFatal(py, drv)
	log = readFrom(t, l.mainLog, mark)
	for i := range 2 {
		checkCrashLoop(t, log, fmt.Sprintf("%s_%02d", group, i), startsecs, false)
	}

	// Redis is back: start brings the workers up and they work.
	l.startRedis()
	expectLines(t, "start once Redis is back", l.mustCtl(drv, 0, "start", group+":*"), eachLine(2, "started")...)
	l.waitRunning(py, 2)
	jobs = append(jobs, l.dispatch("s", 20, 10)...)
	l.checkExactlyOnce(l.waitAllDone(jobs, 60*time.Second), jobs)
}

// tooQuick is the status description of a process in BACKOFF or FATAL after
// quick exits.
const tooQuick = "Exited too quickly (process log may have details)"

// waitFatal waits until every worker is FATAL, polling status through each
// client in turn, and returns the states seen per process; BACKOFF must say
// why.
func (l *lab) waitFatal(clients ...client) map[string]map[string]bool {
	l.t.Helper()
	seen := map[string]map[string]bool{}
	turn := 0
	l.waitFor("every worker FATAL", 180*time.Second, func() bool {
		st := l.status(clients[turn%len(clients)])
		turn++
		fatal := 0
		for name, ps := range st {
			if seen[name] == nil {
				seen[name] = map[string]bool{}
			}
			seen[name][ps.state] = true
			if ps.state == "BACKOFF" && ps.desc != tooQuick {
				l.t.Errorf("status %s: BACKOFF %q, want %q", name, ps.desc, tooQuick)
			}
			if ps.state == "FATAL" {
				fatal++
			}
		}
		return fatal == len(st)
	})
	return seen
}

var logLine = regexp.MustCompile(`^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) (.*)$`)

// checkCrashLoop replays the main log lines of one process against
// Supervisor's start rules (spec §2.2-2.4, autorestart=true, startretries=3)
// and checks that they end in FATAL:
//   - an exit from RUNNING, or from STARTING once startsecs have passed, is
//     followed by a new spawn at once, and resets the backoff count;
//   - an exit within startsecs of the spawn is quick: the count goes up to k,
//     the process is in BACKOFF and the next spawn comes at least k s later
//     (checked as a lower bound only); after the 4th quick exit in a row it
//     gives up: FATAL.
//
// On an idle machine every attempt without Redis is quick, so this is the
// one sequence exit, (spawn, exit) x4, gave up. How long php takes to fail
// depends on load, so an attempt may also outlive startsecs; the log line of
// a spawn comes after the fork, so an exit less than 1 s short of startsecs
// after it is judged by what follows it.
func checkCrashLoop(t *testing.T, log, name string, startsecs time.Duration, fromRunning bool) {
	t.Helper()
	if problem := crashLoopProblem(log, name, startsecs, fromRunning); problem != "" {
		t.Errorf("main log for %s: %s", name, problem)
	}
}

// crashLoopProblem is checkCrashLoop's replay; it says what is wrong, or "".
func crashLoopProblem(log, name string, startsecs time.Duration, fromRunning bool) string {
	var (
		spawned = "INFO spawned: '" + name + "' with pid N"
		success = fmt.Sprintf("INFO success: %s entered RUNNING state, process has stayed up for > than %d seconds (startsecs)", name, int(startsecs/time.Second))
		exited  = "WARN exited: " + name + " (exit status 1; not expected)"
		gaveUp  = "INFO gave up: " + name + " entered FATAL state, too many start retries too quickly"
		pidNum  = regexp.MustCompile(`with pid \d+$`)
	)
	type event struct {
		at   time.Time
		text string
	}
	var events []event
	for _, line := range strings.Split(log, "\n") {
		m := logLine.FindStringSubmatch(line)
		if m == nil || !(strings.Contains(m[2], " "+name+" ") || strings.Contains(m[2], "'"+name+"'")) {
			continue
		}
		when, err := time.Parse("2006-01-02 15:04:05,000", m[1])
		if err != nil {
			return err.Error()
		}
		events = append(events, event{when, pidNum.ReplaceAllString(m[2], "with pid N")})
	}
	fail := func(i int, why string) string {
		var b strings.Builder
		for j, ev := range events {
			mark := "  "
			if j == i {
				mark = "> "
			}
			fmt.Fprintf(&b, "%s%s %s\n", mark, ev.at.Format("15:04:05.000"), ev.text)
		}
		return why + "\n" + b.String()
	}
	const slack = 10 * time.Millisecond // log times are in ms
	state, backoff := "FATAL", 0
	if fromRunning {
		state = "RUNNING"
	}
	var spawnedAt, exitedAt time.Time
	for i, ev := range events {
		switch ev.text {
		case spawned:
			switch state {
			case "EXITED", "FATAL": // autorestart; start
			case "BACKOFF":
				if gap := ev.at.Sub(exitedAt); gap < time.Duration(backoff)*time.Second-slack {
					return fail(i, fmt.Sprintf("spawned %v after quick exit number %d, want at least %d s", gap, backoff, backoff))
				}
			default:
				return fail(i, "spawned while "+state)
			}
			state, spawnedAt = "STARTING", ev.at
		case success:
			if state != "STARTING" || ev.at.Sub(spawnedAt) < startsecs-slack {
				return fail(i, fmt.Sprintf("RUNNING from %s %v after the spawn", state, ev.at.Sub(spawnedAt)))
			}
			state, backoff = "RUNNING", 0
		case exited:
			exitedAt = ev.at
			switch state {
			case "RUNNING":
				state, backoff = "EXITED", 0
			case "STARTING":
				ran := ev.at.Sub(spawnedAt)
				quick := ran < startsecs-time.Second
				if !quick && ran < startsecs && i+1 < len(events) {
					next := events[i+1]
					quick = next.text == gaveUp || next.at.Sub(ev.at) >= time.Duration(backoff+1)*time.Second-slack
				}
				if quick {
					state = "BACKOFF"
					backoff++
				} else {
					state, backoff = "EXITED", 0
				}
			default:
				return fail(i, "exited while "+state)
			}
		case gaveUp:
			if state != "BACKOFF" || backoff != 4 {
				return fail(i, fmt.Sprintf("FATAL from %s after %d quick exits, want BACKOFF after 4", state, backoff))
			}
			state = "FATAL"
		default:
			return fail(i, "unexpected line")
		}
	}
	if state != "FATAL" || len(events) == 0 || events[len(events)-1].text != gaveUp {
		return fail(-1, "does not end with "+gaveUp)
	}
	return ""
}
