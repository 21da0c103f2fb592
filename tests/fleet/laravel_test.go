package fleet

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/drover/drover/tests/laravelenv"
)

// laravelWorkers is the how-to's queue worker program, two per node,
// draining the default queue of the Redis at redisPort; every node's
// jobs append to the same job log.
func laravelWorkers(appDir string, env []string) string {
	var quoted []string
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		quoted = append(quoted, k+`="`+v+`"`)
	}
	return fmt.Sprintf(`
[program:laravel-worker]
process_name=%%(program_name)s_%%(process_num)02d
command=php %s/artisan queue:work redis --tries=3 --timeout=30
numprocs=2
stopwaitsecs=20
redirect_stderr=true
stdout_logfile=NONE
environment=%s
`, appDir, strings.Join(quoted, ","))
}

// TestFleetRollingLaravel: three nodes run the Laravel fixture's
// `queue:work redis` workers on one queue; under a job load, `fleet restart
// --rolling` goes node by node. Each node keeps its two workers RUNNING
// (sampled every 100 ms), and every job is done exactly once.
func TestFleetRollingLaravel(t *testing.T) {
	if droverBin == "" {
		t.Skip("redis-server not found")
	}
	if missing := laravelenv.MissingTool(" (scripts/install-test-deps.sh installs it)", "php"); missing != "" {
		t.Skip(missing)
	}
	appDir, skip := laravelenv.FindApp()
	if skip != "" {
		t.Skip(skip)
	}
	redisSrv := laravelenv.NewRedis(t, laravelenv.TempDir(t, "fleet-redis"))
	redisSrv.Start(t, pollEvery)
	storage, jobLog := laravelenv.NewStorage(t, laravelenv.TempDir(t, "fleet-app"))
	env := laravelenv.AppEnv(redisSrv.Port, jobLog, storage)
	artisan := func(args ...string) {
		t.Helper()
		if out, err := laravelenv.Artisan(appDir, storage, env, nil, args...); err != nil {
			t.Fatalf("artisan %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	artisan("migrate", "--force")
	programs := laravelWorkers(appDir, env)
	var nodes []*node
	for _, name := range []string{"n1", "n2", "n3"} {
		nodes = append(nodes, startNode(t, name, onRedis(redisSrv.Port), "role=worker,", programs))
	}
	laravelenv.WaitFor(t, "n1 sees the three nodes up", 30*time.Second, pollEvery, func() bool {
		return allUp(nodes[0].fleet(), "n1", "n2", "n3")
	})

	// A load before the roll, and more while it runs.
	const jobMS = 300
	ids := laravelenv.JobIDs("a", 150)
	artisan(laravelenv.DispatchArgs("a", 150, jobMS)...)
	stopSampling := sampleRunning(nodes, "laravel-worker")
	more := make(chan error, 1)
	go func() {
		out, err := laravelenv.Artisan(appDir, storage, env, nil, laravelenv.DispatchArgs("b", 150, jobMS)...)
		if err != nil {
			err = fmt.Errorf("%w\n%s", err, out)
		}
		more <- err
	}()
	ids = append(ids, laravelenv.JobIDs("b", 150)...)
	before := map[string]map[string]int{}
	for _, n := range nodes {
		before[n.name] = n.pids()
	}
	out, code := nodes[0].ctl("fleet", "restart", "--rolling", "laravel-worker")
	minRunning, samples := stopSampling()
	if err := <-more; err != nil {
		t.Fatalf("jobs:dispatch b: %v", err)
	}
	t.Logf("fleet restart --rolling (exit %d):\n%s", code, out)
	if code != 0 || !strings.Contains(out, "3 node(s): 3 done") {
		t.Errorf("the fleet roll did not finish on every node")
	}
	for _, n := range nodes {
		after := n.pids()
		for name, pid := range before[n.name] {
			if after[name] == pid {
				t.Errorf("%s: %s kept pid %d: not rolled", n.name, name, pid)
			}
		}
		if m, ok := minRunning[n.name]; !ok || m < 2 {
			t.Errorf("%s: capacity fell to %d RUNNING workers during the roll (sampled)", n.name, m)
		}
	}
	t.Logf("%d samples, least RUNNING per node %v", samples, minRunning)

	// Every job done exactly once, none failed, nothing left in Redis.
	r := laravelenv.WaitAllDone(t, func() laravelenv.JobLog { return laravelenv.ReadJobLog(t, jobLog) }, ids, 60*time.Second, pollEvery)
	for _, id := range ids {
		if n := len(r.Done[id]); n != 1 {
			t.Errorf("job %s: %d done lines, want exactly 1 (pids %v)", id, n, r.Done[id])
		}
	}
	if len(r.Done) != len(ids) || len(r.Fails) > 0 || len(r.Unexpected) > 0 {
		t.Errorf("job log: %d ids done (want %d), fails %v, unexpected %v", len(r.Done), len(ids), r.Fails, r.Unexpected)
	}
	pids := map[int]bool{}
	for _, ps := range r.Done {
		for _, pid := range ps {
			pids[pid] = true
		}
	}
	// The load spanned the roll: workers from before it and workers it
	// started both did jobs.
	old := map[int]bool{}
	for _, ps := range before {
		for _, pid := range ps {
			old[pid] = true
		}
	}
	byOld := 0
	for pid := range pids {
		if old[pid] {
			byOld++
		}
	}
	if byOld == 0 || byOld == len(pids) {
		t.Errorf("jobs done by %d workers from before the roll and %d started by it: the load did not span the roll",
			byOld, len(pids)-byOld)
	}
	t.Logf("%d jobs done by %d worker processes across the fleet (%d from before the roll)", len(ids), len(pids), byOld)
	for _, key := range []string{"laravel_database_queues:default", "laravel_database_queues:default:reserved",
		"laravel_database_queues:default:delayed"} {
		out, err := exec.Command("redis-cli", "-p", fmt.Sprint(redisSrv.Port), "EXISTS", key).Output()
		if err != nil || strings.TrimSpace(string(out)) != "0" {
			t.Errorf("redis %s still holds jobs (%s, %v)", key, out, err)
		}
	}
}
