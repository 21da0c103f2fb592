package fleet

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/drover/drover/internal/wire"
	"github.com/drover/drover/tests/laravelenv"
)

// startFleet starts Redis and the nodes n1 (az=a), n2 (az=b) and n3
// (role=web; the others are role=worker, n3 beats every n3Beat), each
// running sleepers, and waits until n1 sees them all up.
func startFleet(t *testing.T, n3Beat time.Duration) (*laravelenv.Redis, []*node) {
	redisSrv := laravelenv.NewRedis(t, laravelenv.TempDir(t, "fleet-redis"))
	redisSrv.Start(t, pollEvery)
	nodes := []*node{
		startNode(t, "n1", onRedis(redisSrv.Port), "role=worker,az=a,", sleepers),
		startNode(t, "n2", onRedis(redisSrv.Port), "role=worker,az=b,", sleepers),
		startNodeBeating(t, "n3", onRedis(redisSrv.Port), "role=web,", sleepers, n3Beat),
	}
	laravelenv.WaitFor(t, "n1 sees the three nodes up", 30*time.Second, pollEvery, func() bool {
		return allUp(nodes[0].fleet(), "n1", "n2", "n3")
	})
	return redisSrv, nodes
}

func redisClient(t *testing.T, port int) *redis.Client {
	rdb := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", port)})
	t.Cleanup(func() { rdb.Close() })
	return rdb
}

func TestFleetActions(t *testing.T) {
	if droverBin == "" {
		t.Skip("redis-server not found")
	}
	// n3 beats every second: its clean shutdown below must never show it
	// stale (2 s without a beat); with 300 ms a beat late by 300 ms on a
	// loaded host would show it so.
	redisSrv, nodes := startFleet(t, n3Beat)
	n1, n2, n3 := nodes[0], nodes[1], nodes[2]

	// Stop on the workers only, sent from the web node: n1 and n2 report,
	// n3 is not asked and keeps its processes.
	out, code := n3.ctl("fleet", "stop", "sleeper", "--label", "role=worker")
	for _, want := range []string{"sending to 2 node(s): n1, n2", "n1: DONE (2 process(es) stopped)",
		"n2: DONE (2 process(es) stopped)", "2 node(s): 2 done"} {
		if !strings.Contains(out, want) {
			t.Errorf("fleet stop --label role=worker (exit %d) lacks %q:\n%s", code, want, out)
		}
	}
	if code != 0 || strings.Contains(out, "n3:") {
		t.Errorf("fleet stop --label role=worker: exit %d:\n%s", code, out)
	}
	if len(n1.pids()) != 0 || len(n2.pids()) != 0 || len(n3.pids()) != 2 {
		t.Errorf("after the stop: RUNNING n1 %v, n2 %v, n3 %v", n1.pids(), n2.pids(), n3.pids())
	}
	if n3.logCount("fleet: command") != 0 {
		t.Errorf("n3 ran a command that was not for it")
	}

	// Start on every node, then restart on az=a only.
	if out, code := n2.ctl("fleet", "start", "sleeper"); code != 0 || !strings.Contains(out, "3 node(s): 3 done") {
		t.Errorf("fleet start: exit %d:\n%s", code, out)
	}
	before := map[string]map[string]int{}
	for _, n := range nodes {
		before[n.name] = n.pids()
		if len(before[n.name]) != 2 {
			t.Errorf("%s after fleet start: %v", n.name, before[n.name])
		}
	}
	out, code = n1.ctl("fleet", "restart", "sleeper", "--label=az=a")
	if code != 0 || !strings.Contains(out, "n1: DONE (2 process(es) restarted)") || !strings.Contains(out, "1 node(s): 1 done") {
		t.Errorf("fleet restart --label=az=a: exit %d:\n%s", code, out)
	}
	for _, n := range nodes {
		after := n.pids()
		changed := after["sleeper_0"] != before[n.name]["sleeper_0"] && after["sleeper_1"] != before[n.name]["sleeper_1"]
		if len(after) != 2 || changed != (n == n1) {
			t.Errorf("%s: pids %v, then %v after the restart on az=a", n.name, before[n.name], after)
		}
	}
	if out, code := n1.ctl("fleet", "restart", "sleeper", "--label", "az=z"); code != 1 ||
		!strings.Contains(out, "sleeper: ERROR (no node that is up with az=z has this group)") {
		t.Errorf("fleet restart on no node: exit %d:\n%s", code, out)
	}

	// Someone who can write to Redis but has not the secret: an unsigned
	// command, a badly signed one, a replay of the restart above (same
	// body and signature, new stream entry) and a correctly signed but
	// expired one are each refused and logged; nothing restarts.
	rdb := redisClient(t, redisSrv.Port)
	ctx := context.Background()
	stream := keyPrefix + "commands"
	entries, err := rdb.XRevRangeN(ctx, stream, "+", "-", 1).Result()
	if err != nil || len(entries) != 1 {
		t.Fatalf("last command: %v %v", entries, err)
	}
	last := entries[0].Values
	pidsBefore := n1.pids()
	forge := func(fields ...any) {
		if err := rdb.XAdd(ctx, &redis.XAddArgs{Stream: stream, Values: fields}).Err(); err != nil {
			t.Fatal(err)
		}
	}
	forge("cmd", last["cmd"])                // unsigned
	forge("cmd", last["cmd"], "sig", "00ff") // badly signed
	forge("cmd", last["cmd"], "sig", last["sig"])
	now := time.Now().UnixMilli()
	expired := fmt.Sprintf(`{"id":"expired-1","action":"stop","group":"sleeper","nodes":["n1"],"from":"test","issued_ms":%d,"expires_ms":%d}`,
		now-120_000, now-60_000)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(expired))
	forge("cmd", expired, "sig", hex.EncodeToString(mac.Sum(nil)))
	for _, want := range []string{"refused command (stream entry", ": unsigned", ": bad signature",
		"already received (replayed or redelivered)", "refused command expired-1 (stop sleeper from test): expired"} {
		laravelenv.WaitFor(t, "n1 logs "+want, 30*time.Second, pollEvery, func() bool { return n1.logCount(want) > 0 })
	}
	if got := n1.pids(); fmt.Sprint(got) != fmt.Sprint(pidsBefore) {
		t.Errorf("n1's workers changed after forged commands: %v, then %v", pidsBefore, got)
	}
	var res wire.FleetResult
	if v, err := rdb.HGet(ctx, keyPrefix+"result:expired-1", "n1").Result(); err != nil ||
		json.Unmarshal([]byte(v), &res) != nil || res.State != wire.FleetRefused {
		t.Errorf("n1's result of the expired command: %q %v", v, err)
	}
	// Unsigned and badly signed commands are refused by every node.
	for _, n := range []*node{n2, n3} {
		laravelenv.WaitFor(t, n.name+" logs the forged commands", 30*time.Second, pollEvery, func() bool {
			return n.logCount(": unsigned") > 0 && n.logCount(": bad signature") > 0
		})
	}

	// A clean shutdown takes the node out of the fleet at once: n1 never
	// sees it stale or gone, only absent.
	seen := map[string]bool{}
	stopped := make(chan struct{})
	go func() { n3.stop(); close(stopped) }()
	laravelenv.WaitFor(t, "n3 leaves the fleet", 30*time.Second, pollEvery, func() bool {
		view, err := n1.rpc.Fleet(ctx)
		if err != nil {
			return false
		}
		for _, f := range view {
			if f.Name == "n3" {
				seen[f.State] = true
				return false
			}
		}
		return true
	})
	<-stopped
	if seen[wire.FleetStale] || seen[wire.FleetGone] {
		t.Errorf("n3 was seen %v before leaving", seen)
	}
	if n3.logCount("fleet: node n3 left the fleet") != 1 {
		t.Errorf("n3 did not log leaving the fleet")
	}
}

func TestFleetRolling(t *testing.T) {
	if droverBin == "" {
		t.Skip("redis-server not found")
	}
	_, nodes := startFleet(t, heartbeat)
	before := map[string]map[string]int{}
	for _, n := range nodes {
		before[n.name] = n.pids()
	}
	// Sample every node's RUNNING sleepers every 100 ms during the roll.
	stopSampling := sampleRunning(nodes, "sleeper")
	out, code := nodes[0].ctl("fleet", "restart", "--rolling", "sleeper", "--batch", "2")
	minRunning, samples := stopSampling()
	t.Logf("fleet restart --rolling (exit %d):\n%s", code, out)
	for _, want := range []string{"fleet rolling restart of sleeper on 3 node(s), 2 at a time",
		"batch 1/2: n1, n2", "batch 2/2: n3", "n1: capacity back (2 RUNNING)", "n3: capacity back", "3 node(s): 3 done"} {
		if !strings.Contains(out, want) {
			t.Errorf("rolling output lacks %q", want)
		}
	}
	// The batches went in order: n3 started after n1 and n2 were back.
	if i, j := strings.Index(out, "n2: capacity back"), strings.Index(out, "batch 2/2"); i < 0 || j < i {
		t.Errorf("batch 2 began before n2's capacity was back")
	}
	if code != 0 {
		t.Errorf("exit %d", code)
	}
	for _, n := range nodes {
		after := n.pids()
		if len(after) != 2 || after["sleeper_0"] == before[n.name]["sleeper_0"] || after["sleeper_1"] == before[n.name]["sleeper_1"] {
			t.Errorf("%s: pids %v, then %v: not rolled", n.name, before[n.name], after)
		}
		if m, ok := minRunning[n.name]; !ok || m < 2 {
			t.Errorf("%s: capacity fell to %d RUNNING during the roll (sampled)", n.name, m)
		}
	}
	t.Logf("%d samples, least RUNNING per node %v", samples, minRunning)
}

// TestFleetMax: three nodes scale one queue (a Redis list that nobody
// drains, so each wants numprocs_max = 4 workers) under fleet_max = 6:
// sampled every 100 ms, the fleet total never exceeds 6, and reaches it.
func TestFleetMax(t *testing.T) {
	if droverBin == "" {
		t.Skip("redis-server not found")
	}
	redisSrv := laravelenv.NewRedis(t, laravelenv.TempDir(t, "fleet-redis"))
	redisSrv.Start(t, pollEvery)
	const fleetMax = 6
	workers := fmt.Sprintf(`
[program:worker]
command=sleep 1000
process_name=%%(program_name)s_%%(process_num)02d
numprocs=1
numprocs_max=4
scale_queue=redis-list://127.0.0.1:%d/0?key=jobs
scale_interval=1
scale_cooldown=0
scale_step=2
fleet_max=%d
startsecs=0
stdout_logfile=NONE
stderr_logfile=NONE
`, redisSrv.Port, fleetMax)
	var nodes []*node
	for _, name := range []string{"n1", "n2", "n3"} {
		n := startNode(t, name, onRedis(redisSrv.Port), "role=worker,", sleepers+workers)
		nodes = append(nodes, n)
	}
	rdb := redisClient(t, redisSrv.Port)
	ctx := context.Background()
	jobs := make([]any, 200)
	for i := range jobs {
		jobs[i] = fmt.Sprintf("job-%d", i)
	}
	if err := rdb.RPush(ctx, "jobs", jobs...).Err(); err != nil {
		t.Fatal(err)
	}
	// workerCount is the group's processes on n that are not stopped.
	workerCount := func(n *node) int {
		infos, err := n.rpc.AllProcessInfo(ctx)
		if err != nil {
			return 0
		}
		c := 0
		for _, i := range infos {
			if i.Group == "worker" && !i.State.IsStopped() {
				c++
			}
		}
		return c
	}
	maxSeen, samples := 0, 0
	reached := time.Time{}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) && (reached.IsZero() || time.Since(reached) < 3*time.Second) {
		total := 0
		var per []int
		for _, n := range nodes {
			c := workerCount(n)
			per = append(per, c)
			total += c
		}
		samples++
		maxSeen = max(maxSeen, total)
		if total > fleetMax {
			t.Errorf("fleet total %d (%v) exceeds fleet_max %d", total, per, fleetMax)
		}
		if total == fleetMax && reached.IsZero() {
			reached = time.Now()
			t.Logf("cap reached: %v", per)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("%d samples, most workers seen %d", samples, maxSeen)
	if reached.IsZero() {
		t.Errorf("the fleet never reached fleet_max %d (most seen %d)", fleetMax, maxSeen)
	}
	// The scalers say why they stopped short, fleet status shows the shares.
	out, _ := nodes[0].ctl("pools")
	t.Logf("pools on n1:\n%s", out)
	laravelenv.WaitFor(t, "fleet status shows the leases", 30*time.Second, pollEvery, func() bool {
		out, _ = nodes[0].ctl("fleet", "status")
		return strings.Contains(out, fmt.Sprintf("fleet_max %d: %d leased in the fleet", fleetMax, fleetMax))
	})
	t.Logf("fleet status:\n%s", out)
	// Every node's snapshot carries its pool's queue sample: the 200 jobs
	// that sleeping workers never take.
	if c := strings.Count(out, "queue jobs: ready 200  due 0  delayed 0  in flight 0"); c != len(nodes) {
		t.Errorf("fleet status shows the queue figures of %d pools, want %d", c, len(nodes))
	}
	for name, fn := range nodes[1].fleet() {
		for _, g := range fn.Groups {
			if g.Name != "worker" {
				continue
			}
			if g.Pool == nil || g.Pool.QueueFigures == nil || g.Pool.QueueFigures.Ready != 200 ||
				g.Pool.QueueFigures.SampledMS == 0 || g.Pool.QueueFigures.Unreachable {
				t.Errorf("fleet status --json: %s's worker pool is %+v, want 200 jobs ready in its queue figures", name, g.Pool)
			}
		}
	}
}

// TestFleetMaxKeepingReload: `pools` shows a capped pool's share, and a
// reload keeping unchanged programs that raises numprocs is counted in
// the node's lease at the next renewal, while the scaler holds (its queue
// is empty), not only once it next grows or shrinks.
func TestFleetMaxKeepingReload(t *testing.T) {
	if droverBin == "" {
		t.Skip("redis-server not found")
	}
	redisSrv := laravelenv.NewRedis(t, laravelenv.TempDir(t, "fleet-redis"))
	redisSrv.Start(t, pollEvery)
	workers := func(numprocs int) string {
		return fmt.Sprintf(`
[program:worker]
command=sleep 1000
process_name=%%(program_name)s_%%(process_num)02d
numprocs=%d
numprocs_max=4
scale_queue=redis-list://127.0.0.1:%d/0?key=jobs
scale_interval=1
fleet_max=6
startsecs=0
stdout_logfile=NONE
stderr_logfile=NONE
`, numprocs, redisSrv.Port)
	}
	n := startNode(t, "n1", onRedis(redisSrv.Port), "", workers(2))
	rdb := redisClient(t, redisSrv.Port)
	leased := func() string {
		v, _ := rdb.HGet(context.Background(), keyPrefix+"lease:{worker}", "n1").Result()
		return v
	}
	laravelenv.WaitFor(t, "pools shows the share", 30*time.Second, pollEvery, func() bool {
		out, _ := n.ctl("pools", "worker")
		return strings.Contains(out, "fleet_max 6: 2 leased in the fleet, 2 here")
	})
	conf, err := os.ReadFile(n.conf)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(n.conf, []byte(strings.Replace(string(conf), "numprocs=2", "numprocs=3", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, code := n.ctl("reload", "--keep-unchanged"); code != 0 {
		t.Fatalf("reload --keep-unchanged: exit %d: %s", code, out)
	}
	laravelenv.WaitFor(t, "3 workers run", 30*time.Second, pollEvery, func() bool { return len(n.pids()) >= 3 })
	laravelenv.WaitFor(t, "the lease counts 3", 10*time.Second, pollEvery, func() bool { return leased() == "3" })
	out, _ := n.ctl("pools", "worker")
	if !strings.Contains(out, "fleet_max 6: 3 leased in the fleet, 3 here") {
		t.Errorf("pools after the reload:\n%s", out)
	}
	if strings.Contains(out, "limiter granted") {
		t.Errorf("the scaler asked for leases (the test wants it holding):\n%s", out)
	}
}

// sampleRunning counts every node's RUNNING processes of group every
// 100 ms until stop, which returns the least count seen per node and the
// number of samples.
func sampleRunning(nodes []*node, group string) (stop func() (least map[string]int, samples int)) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var mu sync.Mutex
	least := map[string]int{}
	samples := 0
	for _, n := range nodes {
		wg.Go(func() {
			tick := time.NewTicker(100 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
				}
				infos, err := n.rpc.AllProcessInfo(ctx)
				if err != nil {
					continue
				}
				running := 0
				for _, i := range infos {
					if i.Group == group && i.State == wire.ProcessRunning {
						running++
					}
				}
				mu.Lock()
				if cur, ok := least[n.name]; !ok || running < cur {
					least[n.name] = running
				}
				samples++
				mu.Unlock()
			}
		})
	}
	return func() (map[string]int, int) {
		cancel()
		wg.Wait()
		return least, samples
	}
}
