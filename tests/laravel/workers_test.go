package laravel_test

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The how-to's workers, added while Redis is down, with wait_for: they stay
// STOPPED saying what they wait for (instead of burning startretries into
// FATAL), start only once Redis answers PING, then work the queue.
func TestWorkersWaitForRedis(t *testing.T) {
	if reference {
		t.Skip("wait_for is Drover's")
	}
	l := newLab(t, program{numprocs: 2, stopwaitsecs: 10, timeout: 60, dropInLater: true})
	drv, py := l.drv(), l.py()
	redisURL := fmt.Sprintf("redis://127.0.0.1:%d", l.redisPort)
	l.prog.drover = "wait_for=" + redisURL + "\nready_interval=200ms\n"
	l.stopRedis()
	l.writeProgram()
	if out := l.mustCtl(drv, 0, "reread"); out != group+": available\n" {
		t.Errorf("reread: got %q", out)
	}
	if out := l.mustCtl(py, 0, "update"); out != group+": added process group\n" {
		t.Errorf("update: got %q", out)
	}
	l.waitFor("both workers waiting for Redis", 30*time.Second, func() bool {
		st := l.status(py)
		for _, name := range procNames(2) {
			if st[name].state != "STOPPED" || st[name].desc != "waiting for "+redisURL {
				return false
			}
		}
		return true
	})
	// Long enough for startsecs and startretries to have run out, had they started.
	time.Sleep(3 * time.Second)
	for name, st := range l.status(drv) {
		if st.state != "STOPPED" || st.desc != "waiting for "+redisURL {
			t.Errorf("%s with Redis down: %s %q, want STOPPED waiting", name, st.state, st.desc)
		}
	}
	if log := l.mainLogText(); strings.Contains(log, "spawned: '"+group) {
		t.Fatalf("a worker was spawned before Redis answered:\n%s", log)
	}

	l.startRedis()
	l.waitRunning(py, 2)
	log := l.mainLogText()
	for _, name := range procNames(2) {
		if !strings.Contains(log, "INFO "+name+": done waiting, starting") {
			t.Errorf("main log: no 'done waiting' line for %s:\n%s", name, log)
		}
	}
	jobs := l.dispatch("w", 20, 20)
	r := l.waitAllDone(jobs, 60*time.Second)
	l.checkExactlyOnce(r, jobs)
}

// Workers over memory_limit are restarted gracefully, again and again, while
// they work a queue: each restart is a SIGTERM after which queue:work
// finishes its job and exits 0, so every job is done exactly once.
func TestMemoryLimitRestartsGracefully(t *testing.T) {
	if reference {
		t.Skip("memory_limit is Drover's")
	}
	// A PHP worker holds tens of MB: 4MB is always exceeded.
	l := newLab(t, program{numprocs: 2, stopwaitsecs: 30, timeout: 60,
		drover: "memory_limit=4MB\nmemory_check_interval=1s\n"})
	// Workers are restarted about once a second each, so both are rarely
	// RUNNING at the same instant: wait until each has been RUNNING once.
	l.waitFor("each worker RUNNING once", 60*time.Second, func() bool {
		data, _ := os.ReadFile(l.mainLog) // absent until the daemon starts
		log := string(data)
		for i := range 2 {
			name := fmt.Sprintf("%s_%02d", group, i)
			if !strings.Contains(log, "success: "+name+" entered RUNNING state") {
				return false
			}
		}
		return true
	})
	jobs := l.dispatch("m", 40, 100)
	r := l.waitAllDone(jobs, 120*time.Second)
	l.checkExactlyOnce(r, jobs)

	log := l.mainLogText()
	over := regexp.MustCompile(`WARN memory limit: ` + group + `_\d\d \(pid \d+\) uses \d+\.\d MB > 4 MB, restarting`)
	if n := len(over.FindAllString(log, -1)); n < 2 {
		t.Errorf("main log: %d memory limit restarts, want several:\n%s", n, log)
	}
	if !regexp.MustCompile(`stopped: ` + group + `_\d\d \(exit status 0\)`).MatchString(log) {
		t.Errorf("main log: no graceful stop (exit status 0) of a worker:\n%s", log)
	}
	if strings.Contains(log, "SIGKILL") {
		t.Errorf("main log: a worker was killed:\n%s", log)
	}
}

func (l *lab) mainLogText() string {
	l.t.Helper()
	data, err := os.ReadFile(l.mainLog)
	if err != nil {
		l.t.Fatal(err)
	}
	return string(data)
}
