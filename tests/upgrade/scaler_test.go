package upgrade_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// fleetPool is a node of a fleet on the Redis at port whose pool wants 3
// workers (3 jobs wait; its sleepers never take them) under a fleet-wide
// cap of 4. Beats every 200 ms: a lease lasts 600 ms, less than a switch
// may take on a loaded machine.
func fleetPool(node string, port int) string {
	return fmt.Sprintf("[fleet]\nredis_url=redis://127.0.0.1:%d/0\nnode_name=%s\nheartbeat_interval=200ms\n", port, node) +
		scalingPool(port, 4, "sleep 1000", "fleet_max=4\n")
}

// scalingPool is a [program:pool] of numprocs 1 running command, scaling
// up to most workers (in one step) by the list jobs of the Redis at port,
// deciding every second; extra adds lines to it.
func scalingPool(port, most int, command, extra string) string {
	return fmt.Sprintf(`[program:pool]
command=%[1]s
process_name=%%(program_name)s_%%(process_num)s
numprocs=1
numprocs_max=%[2]d
scale_queue=redis-list://127.0.0.1:%[3]d/0?key=jobs
scale_interval=1
scale_cooldown=1
scale_step=%[2]d
startsecs=0
`, command, most, port) + extra
}

// jobsIn returns a client of the Redis at port, its list jobs holding n
// jobs (which the pools' sleepers never take).
func jobsIn(t *testing.T, port, n int) *redis.Client {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + strconv.Itoa(port)})
	t.Cleanup(func() { rdb.Close() })
	for i := range n {
		if err := rdb.RPush(context.Background(), "jobs", i).Err(); err != nil {
			t.Fatal(err)
		}
	}
	return rdb
}

// A pool holding workers leased from the fleet (fleet_max) is upgraded
// with them: its workers keep their pids, its lease stays in Redis with
// the same count and is renewed by the new image, and the fleet's total,
// sampled every 20 ms while another node asks for more all along, never
// goes beyond fleet_max. Then the new image still releases what it holds.
func TestFleetLeasesAcrossUpgrade(t *testing.T) {
	srv := startRedis(t)
	good := build(t, "good", "-X github.com/drover/drover/internal/version.Build=before")
	rdb := jobsIn(t, srv.Port, 3)
	ctx := context.Background()
	const leases, expiries = "drover:fleet:lease:{pool}", "drover:fleet:lease-exp:{pool}"
	total := func() int {
		vals, _ := rdb.HVals(ctx, leases).Result()
		n := 0
		for _, v := range vals {
			i, _ := strconv.Atoi(v)
			n += i
		}
		return n
	}
	leased := func(node string) string { v, _ := rdb.HGet(ctx, leases, node).Result(); return v }
	poolPids := func(r *rig) map[string]int {
		pids := map[string]int{}
		for name, pid := range r.statusPids() {
			if strings.HasPrefix(name, "pool:") {
				pids[name] = pid
			}
		}
		return pids
	}
	waitUntil := func(what string, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); !ok(); time.Sleep(50 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting until %s (leases %v)", what, rdb.HGetAll(ctx, leases).Val())
			}
		}
	}

	n1 := newRig(t, good, fleetPool("n1", srv.Port), 1)
	waitUntil("n1 runs 3 workers, 2 of them leased", func() bool { return len(poolPids(n1)) == 3 && leased("n1") == "3" })
	n2 := newRig(t, good, fleetPool("n2", srv.Port), 1)
	n2.running()
	waitUntil("the fleet is at its cap", func() bool { return total() == 4 && leased("n2") == "1" })
	before := poolPids(n1)

	most, samples := 0, 0
	var closest time.Duration = time.Hour // the least time n1's lease had left
	left := func() time.Duration {
		exp, err := rdb.ZScore(ctx, expiries, "n1").Result()
		if err != nil {
			return 0
		}
		return time.UnixMilli(int64(exp)).Sub(rdb.Time(ctx).Val())
	}
	stopSampling := sampleEvery(20*time.Millisecond, func() {
		most, samples, closest = max(most, total()), samples+1, min(closest, left())
	})
	if out, code := n1.ctl("upgrade"); code != 0 || !strings.Contains(out, "upgraded: drover before is running") {
		t.Fatalf("upgrade of a node holding leased workers: exit %d:\n%s", code, out)
	}
	time.Sleep(3 * time.Second) // n2 asks three times more
	stopSampling()
	if samples < 20 || most > 4 {
		t.Errorf("fleet total at most %d in %d samples, want never beyond fleet_max 4", most, samples)
	}
	if closest <= 0 {
		t.Errorf("n1's lease expired or went during the upgrade (%v left at the closest)", closest)
	}
	t.Logf("%d samples: fleet total at most %d, n1's lease at least %v from expiring", samples, most, closest)
	if got := leased("n1"); got != "3" {
		t.Errorf("n1's lease after the upgrade: %q, want 3", got)
	}
	if l := left(); l > 2*time.Second || l <= 0 {
		t.Errorf("n1's lease expires in %v: want it renewed by the new image, 600 ms at a time", l)
	}
	after := poolPids(n1)
	if len(after) != 3 {
		t.Errorf("n1's pool after the upgrade: %v, want its 3 workers", after)
	}
	for name, pid := range before {
		if after[name] != pid {
			t.Errorf("%s: pid %d after the upgrade, was %d", name, after[name], pid)
		}
	}
	if got := len(poolPids(n2)); got != 1 {
		t.Errorf("n2 runs %d workers, want 1 (the cap is taken)", got)
	}
	// The new image gives back what the old one acquired.
	if out, err := exec.Command("redis-cli", "-p", strconv.Itoa(srv.Port), "del", "jobs").CombinedOutput(); err != nil {
		t.Fatalf("redis-cli del: %v: %s", err, out)
	}
	waitUntil("n1 is back to its numprocs", func() bool { return len(poolPids(n1)) == 1 && leased("n1") == "1" })
}

// Workers the scaler is stopping (finishing their job on SIGTERM) are
// handed over: the upgrade is not refused, the new image waits for each to
// stop and removes it, and the worker the pool keeps keeps its pid.
func TestDrainingWorkersAcrossUpgrade(t *testing.T) {
	srv := startRedis(t)
	good := build(t, "good", "-X github.com/drover/drover/internal/version.Build=before")
	rdb := jobsIn(t, srv.Port, 3)
	ctx := context.Background()
	pool := scalingPool(srv.Port, 3, `sh -c 'trap "sleep 3; exit 0" TERM; while :; do sleep 0.1; done'`, "stopwaitsecs=20\n")
	r := newRig(t, good, pool, 3)
	before := r.running()
	if err := rdb.Del(ctx, "jobs").Err(); err != nil {
		t.Fatal(err)
	}
	r.waitLog(regexp.MustCompile(`waiting for pool_[12] to stop`)) // draining
	if out, code := r.ctl("upgrade"); code != 0 || !strings.Contains(out, "upgraded: drover before is running") {
		t.Fatalf("upgrade while the scaler drains workers: exit %d:\n%s", code, out)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		out, _ := r.ctl("status", "pool:*")
		if strings.Count(out, "pool:") == 1 {
			break // the drained workers stopped and removed
		}
		if time.Now().After(deadline) {
			t.Fatalf("the drained workers are still there:\n%s", out)
		}
	}
	after := r.statusPids()
	if _, still := after["pool:pool_1"]; still {
		t.Errorf("pool_1 is still there: %v", after)
	}
	if after["pool:pool_0"] != before["pool:pool_0"] {
		t.Errorf("pool_0: pid %d, was %d", after["pool:pool_0"], before["pool:pool_0"])
	}
	for _, name := range []string{"pool:pool_1", "pool:pool_2"} {
		if alive(before[name]) {
			t.Errorf("%s (pid %d) still alive", name, before[name])
		}
	}
	log, _ := os.ReadFile(r.mainLog)
	if !regexp.MustCompile(`(?s)took over from drover before.*stopped: pool_[12] \(exit status 0\)`).Match(log) {
		t.Errorf("no drained worker stopped after the take-over:\n%s", log)
	}
}
