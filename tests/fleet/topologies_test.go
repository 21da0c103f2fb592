package fleet

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/drover/drover/internal/wire"
	"github.com/drover/drover/tests/laravelenv"
	"github.com/drover/drover/tests/redislab"
)

// startWorkers starts the named nodes with sleepers on the Redis that the
// [fleet] lines on name, and waits until each sees them all up.
func startWorkers(t *testing.T, on string, names []string) []*node {
	t.Helper()
	var nodes []*node
	for _, name := range names {
		nodes = append(nodes, startNode(t, name, on, "role=worker,", sleepers))
	}
	for _, n := range nodes {
		laravelenv.WaitFor(t, n.name+" sees every node up, its sleepers RUNNING", 30*time.Second, pollEvery, func() bool {
			return allRunning(n.fleet(), names...)
		})
	}
	return nodes
}

// TestFleetThroughSentinel: three daemons find their Redis through two
// Sentinels (passwords on both, database 1): every node sees the others,
// a fleet command runs on each; then Sentinel promotes the replica, and
// every node goes on publishing to the new master and running commands,
// no worker restarted, each loss of Redis logged with its recovery.
func TestFleetThroughSentinel(t *testing.T) {
	if droverBin == "" {
		t.Skip("redis-server not found")
	}
	lab := redislab.StartSentinel(t, pollEvery)
	on := fmt.Sprintf("redis_url=%s\nredis_sentinel_master=%s\nredis_sentinel_password=%s\n",
		lab.URL(":"+redislab.MasterPassword, 1), redislab.MasterName, redislab.SentinelPassword)
	names := []string{"n1", "n2", "n3"}
	nodes := startWorkers(t, on, names)
	if out, code := nodes[2].ctl("fleet", "restart", "sleeper"); code != 0 || !strings.Contains(out, "3 node(s): 3 done") {
		t.Errorf("fleet restart through Sentinel: exit %d:\n%s", code, out)
	}

	before := make([]map[string]int, len(nodes))
	for i, n := range nodes {
		laravelenv.WaitFor(t, n.name+" runs its two sleepers", 30*time.Second, pollEvery, func() bool {
			return len(n.pids()) == 2
		})
		before[i] = n.pids()
	}
	lab.Failover(t, pollEvery)
	failedOver := time.Now().UnixMilli()
	laravelenv.WaitFor(t, "every node beats after the failover", 30*time.Second, pollEvery, func() bool {
		view := nodes[0].fleet()
		for _, name := range names {
			if view[name].State != wire.FleetUp || view[name].Beat <= failedOver {
				return false
			}
		}
		return true
	})
	for i, n := range nodes {
		if after := n.pids(); fmt.Sprint(after) != fmt.Sprint(before[i]) {
			t.Errorf("%s workers changed across the failover: %v, then %v", n.name, before[i], after)
		}
		if l, b := n.logCount("fleet: Redis unreachable"), n.logCount("fleet: Redis reachable again"); l != b {
			t.Errorf("%s logged %d losses of Redis and %d recoveries", n.name, l, b)
		}
		// go-redis tells of the new master in its own words: in the main
		// log at DEBG, never on the daemon's stderr past the log's level.
		out, _ := os.ReadFile(filepath.Join(n.dir, "daemon.out"))
		for _, line := range strings.Split(string(out), "\n") {
			if strings.HasPrefix(line, "redis: ") {
				t.Errorf("%s: go-redis wrote to the daemon's stderr: %s", n.name, line)
			}
		}
	}
	if out, code := nodes[1].ctl("fleet", "restart", "sleeper"); code != 0 || !strings.Contains(out, "3 node(s): 3 done") {
		t.Errorf("fleet restart after the failover: exit %d:\n%s", code, out)
	}
}

// TestFleetOnCluster: three daemons on a Redis Cluster of three masters:
// every node sees the others, with their processes, and a fleet command
// runs on each.
func TestFleetOnCluster(t *testing.T) {
	if droverBin == "" {
		t.Skip("redis-server not found")
	}
	addrs := redislab.StartCluster(t, pollEvery)
	on := fmt.Sprintf("redis_url=redis://%s?addr=%s\nredis_cluster=true\n", addrs[0], addrs[1])
	names := []string{"n1", "n2", "n3"}
	nodes := startWorkers(t, on, names)
	for name, fn := range nodes[0].fleet() {
		if fn.Counts["RUNNING"] != 2 || len(fn.Groups) != 1 {
			t.Errorf("n1 sees %s as %+v", name, fn)
		}
	}
	if out, code := nodes[2].ctl("fleet", "restart", "sleeper"); code != 0 || !strings.Contains(out, "3 node(s): 3 done") {
		t.Errorf("fleet restart on a cluster: exit %d:\n%s", code, out)
	}
	if out, code := nodes[0].ctl("fleet", "status", "sleeper"); code != 0 || strings.Count(out, "RUNNING") != 6 {
		t.Errorf("fleet status sleeper on a cluster: exit %d:\n%s", code, out)
	}
}
