package autoscale

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// A burst of jobs grows the pool to numprocs_max; once the queue is drained
// it shrinks back to numprocs_min, stopping workers with SIGTERM only; every
// job runs exactly once.
func TestBurstGrowsThenDrainShrinks(t *testing.T) {
	l := newLab(t)
	l.writeConf("--sleep=1", fmt.Sprintf(`numprocs=1
numprocs_min=1
numprocs_max=4
scale_queue=laravel-redis://127.0.0.1:%d/0?queues=default
scale_interval=1
scale_cooldown=1
startsecs=1`, l.redisPort))
	l.startDaemon()
	l.waitFor("one RUNNING worker", 30*time.Second, func() bool { return count(l.states(), "RUNNING") == 1 })

	ids := l.dispatch("b", 150, 200)
	most := 0
	l.waitFor("the pool to reach numprocs_max", 60*time.Second, func() bool {
		st := l.states()
		if len(st) > 4 {
			t.Fatalf("more processes than numprocs_max while growing: %v", st)
		}
		most = max(most, count(st, "RUNNING"))
		return most == 4
	})
	l.waitFor("drover.getPools to report busy workers", 30*time.Second, func() bool { return l.pool()["busy"].(int) > 0 })
	p := l.pool()
	if p["scaling"] != true || p["queue_ok"] != true || p["max"] != 4 || !strings.Contains(p["decision"].(string), "ready") {
		t.Errorf("drover.getPools during the burst: %v", p)
	}
	out, err := l.ctl("pools")
	if err != nil || !strings.Contains(out, "worker") || !strings.Contains(out, "queue ok") || !strings.Contains(out, "last decision:") {
		t.Errorf("ctl pools: %v\n%s", err, out)
	}

	pids := l.waitAllDone(ids, 3*time.Minute)
	if len(pids) < 2 {
		t.Errorf("jobs ran on %d workers, want several: %v", len(pids), pids)
	}
	l.waitFor("the pool to shrink to numprocs_min", 60*time.Second, func() bool {
		st := l.states()
		return len(st) == 1 && count(st, "RUNNING") == 1
	})
	if p := l.pool(); p["workers"] != 1 || p["draining"] != 0 || p["target"] != 1 {
		t.Errorf("drover.getPools after the drain: %v", p)
	}
	data, _ := os.ReadFile(l.mainLog)
	log := string(data)
	for _, bad := range []string{"SIGKILL", "killed", "exit status 1"} {
		if strings.Contains(log, bad) {
			t.Errorf("main log mentions %q:\n%s", bad, log)
		}
	}
	if n := strings.Count(log, "(exit status 0)"); n < 3 {
		t.Errorf("main log shows %d graceful worker exits, want 3:\n%s", n, log)
	}
}

// capacity samples the RUNNING count through XML-RPC until stop is closed
// and returns the least it saw (-1 when it took no sample).
func capacity(l *lab, stop <-chan struct{}) <-chan int {
	least := make(chan int, 1)
	go func() {
		low, samples := 1<<30, 0
		for {
			select {
			case <-stop:
				if samples == 0 {
					low = -1
				}
				least <- low
				return
			case <-time.After(pollEvery):
			}
			v, err := l.call("supervisor.getAllProcessInfo")
			if err != nil {
				continue
			}
			n := 0
			for _, info := range v.([]any) {
				if info.(map[string]any)["statename"] == "RUNNING" {
					n++
				}
			}
			low, samples = min(low, n), samples+1
		}
	}()
	return least
}

// rollUnderLoad runs a ctl command while jobs are processed and returns its
// output and the least RUNNING count sampled meanwhile.
func rollUnderLoad(l *lab, args ...string) (string, int) {
	l.t.Helper()
	stop := make(chan struct{})
	least := capacity(l, stop)
	out, err := l.ctl(args...)
	close(stop)
	if err != nil {
		l.t.Fatalf("ctl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out, <-least
}

func pidsOf(l *lab) map[string]int {
	l.t.Helper()
	out := map[string]int{}
	for _, info := range l.mustCall("supervisor.getAllProcessInfo").([]any) {
		m := info.(map[string]any)
		out[m["name"].(string)] = m["pid"].(int)
	}
	return out
}

// A rolling restart, then a rolling update of the command, under load:
// RUNNING never drops below numprocs, every worker is replaced, no job is
// lost or run twice.
func TestRollingRestartAndUpdateKeepCapacity(t *testing.T) {
	l := newLab(t)
	l.writeConf("--sleep=1", "numprocs=3\nstartsecs=1")
	l.startDaemon()
	l.waitFor("three RUNNING workers", 30*time.Second, func() bool { return count(l.states(), "RUNNING") == 3 })
	before := pidsOf(l)

	var mu sync.Mutex
	var all []string
	queue := func(prefix string) {
		ids := l.dispatch(prefix, 60, 400)
		mu.Lock()
		all = append(all, ids...)
		mu.Unlock()
	}
	queue("r")
	out, least := rollUnderLoad(l, "restart", "--rolling", "worker")
	if !strings.Contains(out, "worker: restarted (rolling, 1 at a time)") {
		t.Errorf("restart --rolling output: %q", out)
	}
	if least < 3 {
		t.Errorf("RUNNING dropped to %d during the rolling restart", least)
	}
	after := pidsOf(l)
	if len(after) != 3 {
		t.Errorf("after the roll: %v", after)
	}
	for name, pid := range after {
		if before[name] == pid || pid == 0 {
			t.Errorf("%s still has pid %d after the rolling restart", name, pid)
		}
	}

	// A changed command rolls out the same way, two at a time.
	queue("u")
	l.writeConf("--sleep=2", "numprocs=3\nstartsecs=1")
	out, least = rollUnderLoad(l, "update", "--rolling", "--batch", "2")
	if !strings.Contains(out, "worker: updated process group (rolling, 2 at a time)") || strings.Contains(out, "stopped") {
		t.Errorf("update --rolling output: %q", out)
	}
	if least < 3 {
		t.Errorf("RUNNING dropped to %d during the rolling update", least)
	}
	for name, pid := range pidsOf(l) {
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if !strings.Contains(string(cmdline), "--sleep=2") {
			t.Errorf("%s (pid %d) runs %q after the update", name, pid, cmdline)
		}
	}
	if out, _ := l.ctl("reread"); !strings.Contains(out, "No config updates to processes") {
		t.Errorf("reread after the rolling update: %q", out)
	}
	l.waitAllDone(all, 3*time.Minute)
}

// `php artisan queue:restart` (Laravel's deploy step) changes the watched
// cache key; Drover rolls the workers, and no job is lost or run twice.
func TestQueueRestartKeyRollsWorkers(t *testing.T) {
	l := newLab(t)
	l.writeConf("--sleep=1", fmt.Sprintf(`numprocs=2
startsecs=1
rolling_restart_watch=redis://127.0.0.1:%d/1?key=laravel_database_laravel_cache:illuminate:queue:restart`, l.redisPort))
	l.startDaemon()
	l.waitFor("two RUNNING workers", 30*time.Second, func() bool { return count(l.states(), "RUNNING") == 2 })
	before := pidsOf(l)
	ids := l.dispatch("q", 30, 200)
	l.artisan("queue:restart")
	l.waitFor("the rolling restart to finish", 60*time.Second, func() bool {
		data, _ := os.ReadFile(l.mainLog)
		return strings.Contains(string(data), "illuminate:queue:restart changed to") &&
			strings.Contains(string(data), "rolling restart of worker: stopping the surge worker(s)")
	})
	l.waitFor("two RUNNING workers with new pids", 60*time.Second, func() bool {
		after := pidsOf(l)
		if len(after) != 2 || count(l.states(), "RUNNING") != 2 {
			return false
		}
		for name, pid := range after {
			if before[name] == pid {
				return false
			}
		}
		return true
	})
	l.waitAllDone(ids, 2*time.Minute)
}

// With Redis gone, a pool keeps its size, says so once in the main log and
// in drover.getPools, and scales again once Redis is back.
func TestUnreachableRedisHoldsThePool(t *testing.T) {
	l := newLab(t)
	l.extraSections = fmt.Sprintf(`[program:plain]
process_name=plain_%%(process_num)d
command=/bin/sleep 1000
numprocs=2
numprocs_min=1
numprocs_max=3
scale_queue=redis-list://127.0.0.1:%d/0?key=jobs
scale_interval=1
scale_cooldown=0
startsecs=0
stopwaitsecs=5
`, l.redisPort)
	l.writeConf("", "autostart=false") // the Laravel worker stays out of this one
	l.startDaemon()
	plain := func() map[string]any {
		for _, p := range l.mustCall("drover.getPools").([]any) {
			if m := p.(map[string]any); m["group"] == "plain" {
				return m
			}
		}
		t.Fatal("no pool plain")
		return nil
	}
	l.waitFor("the idle pool to shrink to 1", 30*time.Second, func() bool {
		p := plain()
		return p["workers"] == 1 && p["processes"] == 1
	})
	l.stopRedis()
	var firstFailure int
	l.waitFor("the pool to see Redis gone", 30*time.Second, func() bool {
		p := plain()
		firstFailure = p["sampled_at"].(int)
		return p["queue_ok"] == false
	})
	l.waitFor("two more failed samples", 30*time.Second, func() bool { return plain()["sampled_at"].(int) >= firstFailure+2 })
	p := plain()
	if p["workers"] != 1 || p["processes"] != 1 || p["queue_ok"] != false ||
		!strings.Contains(p["queue_error"].(string), "connection refused") ||
		p["decision"] != "queue unreachable: holding the current size" {
		t.Errorf("pool while Redis is down: %v", p)
	}
	if out, _ := l.ctl("pools", "plain"); !strings.Contains(out, "queue UNREACHABLE") {
		t.Errorf("ctl pools: %q", out)
	}

	l.startRedis()
	l.waitFor("the pool to see Redis back", 30*time.Second, func() bool { return plain()["queue_ok"] == true })
	data, _ := os.ReadFile(l.mainLog)
	log := string(data)
	if n := strings.Count(log, "pool plain: queue redis-list://"); n != 2 {
		t.Errorf("main log has %d queue state lines, want 2 (down, back):\n%s", n, log)
	}
	if !strings.Contains(log, "unreachable, holding its size") || !strings.Contains(log, "reachable again") {
		t.Errorf("main log:\n%s", log)
	}
}

// A scaled-up pool rolls too: its surge workers come from beyond
// numprocs_max, the scaler waits, and capacity never drops.
func TestRollingRestartOfAScaledPool(t *testing.T) {
	l := newLab(t)
	l.writeConf("--sleep=1", fmt.Sprintf(`numprocs=2
numprocs_max=3
scale_queue=laravel-redis://127.0.0.1:%d/0
scale_interval=1
scale_cooldown=1
startsecs=1`, l.redisPort))
	l.startDaemon()
	l.waitFor("two RUNNING workers", 30*time.Second, func() bool { return count(l.states(), "RUNNING") == 2 })
	ids := l.dispatch("s", 200, 200)
	l.waitFor("the pool to grow to 3", 60*time.Second, func() bool { return count(l.states(), "RUNNING") == 3 })
	before := pidsOf(l)
	out, least := rollUnderLoad(l, "restart", "--rolling", "--batch", "2", "worker:*")
	if !strings.Contains(out, "worker: restarted (rolling, 2 at a time)") {
		t.Errorf("restart --rolling output: %q", out)
	}
	if least < 3 {
		t.Errorf("RUNNING dropped to %d during the rolling restart", least)
	}
	data, _ := os.ReadFile(l.mainLog)
	if !strings.Contains(string(data), "spawned: 'worker_05'") || !strings.Contains(string(data), "spawned: 'worker_04'") {
		t.Errorf("surge workers were not worker_04 and worker_05:\n%s", data)
	}
	for name, pid := range pidsOf(l) {
		if before[name] == pid {
			t.Errorf("%s kept pid %d through the rolling restart", name, pid)
		}
	}
	l.waitAllDone(ids, 3*time.Minute)
}
