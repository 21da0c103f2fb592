package fleet

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/wire"
	"github.com/drover/drover/tests/laravelenv"
	"github.com/drover/drover/tests/redislab"
)

// TestFleetOnRedisSentinel: membership, the fleet view, a command and its
// result, and leases, through Redis Sentinel (ACL users with passwords on
// the master and on the Sentinels, database 2); then a failover: every node goes on
// publishing to the promoted replica, and commands and leases work there,
// with no node joined again.
func TestFleetOnRedisSentinel(t *testing.T) {
	const poll = 20 * time.Millisecond
	lab := redislab.StartSentinel(t, poll)
	const beat, db = 200 * time.Millisecond, 2
	cfg := func(name string) *config.Fleet {
		return &config.Fleet{RedisURL: lab.URL(redislab.MasterUser+":"+redislab.MasterUserPassword, db),
			RedisSentinelMaster: redislab.MasterName, RedisSentinelUsername: redislab.SentinelUser,
			RedisSentinelPassword: redislab.SentinelUserPassword, NodeName: name, HeartbeatInterval: beat,
			KeyPrefix: "s:", Secret: "sentinel-test-secret-0123", CommandTTL: 10 * time.Second}
	}
	log := &logLines{}
	names := []string{"a", "b", "c"}
	for _, name := range names {
		m, err := JoinSimulated(cfg(name), testSnapshot, log)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { m.Stop(true) })
	}
	cl, err := NewClient(cfg("a"))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx := context.Background()
	allUp := func() bool {
		nodes, err := cl.Nodes(ctx)
		up := 0
		for _, n := range nodes {
			if n.State == wire.FleetUp && n.Counts["RUNNING"] == 3 {
				up++
			}
		}
		return err == nil && up == len(names)
	}
	laravelenv.WaitFor(t, "three nodes up through Sentinel", 30*time.Second, poll, allUp)
	// The snapshots are on the master Sentinel names, in database 2.
	master := lab.Master(t)
	if n, err := lab.Client(t, master, db).Exists(ctx, "s:node:a", "s:node:b", "s:node:c").Result(); n != 3 {
		t.Errorf("the master %s holds %d of the three snapshots in database %d (%v)", master, n, db, err)
	}
	commandTravels := func(when string) {
		t.Helper()
		id, _, err := cl.Send(ctx, wire.FleetRestart, "worker", []string{"b", "c"}, 1)
		if err != nil {
			t.Fatalf("%s: %v", when, err)
		}
		laravelenv.WaitFor(t, "b and c report done "+when, 30*time.Second, poll, func() bool {
			res, err := cl.Results(ctx, id)
			return err == nil && res["b"].State == wire.FleetDone && res["c"].State == wire.FleetDone
		})
	}
	commandTravels("before the failover")

	// Leases: a cap of 3 across two nodes each holding 1.
	capped := func(name string) *Leases {
		l, err := NewLeases(cfg(name), log)
		if err != nil {
			t.Fatal(err)
		}
		l.Follow(func() []Capped { return []Capped{{Name: "worker", Max: 3, Base: 1, Live: 1}} }, beat)
		t.Cleanup(l.Stop)
		return l
	}
	la, lb := capped("a"), capped("b")
	la.renew(ctx)
	lb.renew(ctx)
	if got := la.Acquire("worker", 2); got != 1 {
		t.Errorf("a acquired %d of 2 (cap 3, b holds 1), want 1", got)
	}

	// The replica is promoted; the nodes learn it from Sentinel.
	promoted := lab.Failover(t, poll)
	if promoted == master {
		t.Fatalf("the master is still %s after the failover", master)
	}
	// beatsOn waits until every node has beaten on the master at a since
	// the failover to it, and returns a client of it.
	beatsOn := func(a string) *redis.Client {
		t.Helper()
		since := time.Now().UnixMilli()
		nc := lab.Client(t, a, db)
		laravelenv.WaitFor(t, "every node beats on the master at "+a, 30*time.Second, poll, func() bool {
			for _, name := range names {
				score, err := nc.ZScore(ctx, "s:nodes", name).Result()
				if err != nil || int64(score) <= since {
					return false
				}
			}
			return true
		})
		laravelenv.WaitFor(t, "three nodes up after the failover to "+a, 30*time.Second, poll, allUp)
		return nc
	}
	nc := beatsOn(promoted)
	commandTravels("after the failover")
	la.Release("worker", 1)
	if got := lb.Acquire("worker", 1); got != 1 {
		t.Errorf("after the failover, with a's extra worker given back, b acquired %d of 1, want 1", got)
	}
	if total, err := nc.HGetAll(ctx, "s:lease:{worker}").Result(); err != nil || total["a"] != "1" || total["b"] != "2" {
		t.Errorf("leases on the promoted master: %v (%v), want a 1, b 2", total, err)
	}
	lost, back := log.count("fleet: Redis unreachable, node"), log.count("fleet: Redis reachable again")
	t.Logf("failover from %s to %s: %d losses of Redis logged, %d recoveries", master, promoted, lost, back)

	// The promoted master dies: Sentinel promotes the first one again,
	// now its replica, and the nodes follow.
	third := lab.StopMaster(t, poll)
	if third != master {
		t.Fatalf("after %s stopped, Sentinel promoted %s, not %s", promoted, third, master)
	}
	beatsOn(third)
	commandTravels("after the master died")
	// Each node logs a loss of Redis once, and its recovery once.
	lost, back = log.count("fleet: Redis unreachable, node"), log.count("fleet: Redis reachable again")
	if lost != back || lost > len(names) {
		t.Errorf("%d losses of Redis logged and %d recoveries (%d nodes)", lost, back, len(names))
	}
	t.Logf("master stopped, %s promoted: %d losses of Redis logged, %d recoveries", third, lost, back)
}
