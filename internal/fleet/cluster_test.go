package fleet

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/wire"
	"github.com/drover/drover/tests/redislab"
)

// TestFleetOnRedisCluster: membership, the fleet view, a command and its
// result, and leases, with every node on a Redis Cluster of three masters
// (its keys spread over the slots).
func TestFleetOnRedisCluster(t *testing.T) {
	addrs := redislab.StartCluster(t, 20*time.Millisecond)
	url := "redis://" + addrs[0] + "/?addr=" + addrs[1]
	const beat = 200 * time.Millisecond
	cfg := func(name string) *config.Fleet {
		return &config.Fleet{RedisURL: url, RedisCluster: true, NodeName: name, HeartbeatInterval: beat,
			KeyPrefix: "c:", Secret: "cluster-test-secret-0123", CommandTTL: 10 * time.Second}
	}
	log := &logLines{}
	var members []*Member
	names := []string{"a", "b", "c", "d", "e"}
	for _, name := range names {
		m, err := JoinSimulated(cfg(name), testSnapshot, log)
		if err != nil {
			t.Fatal(err)
		}
		members = append(members, m)
	}
	defer func() {
		for _, m := range members[1:] {
			m.Stop(true)
		}
	}()
	cl, err := NewClient(cfg("a"))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx := context.Background()
	var nodes []wire.FleetNode
	waitFor(t, "five nodes up", func() bool {
		nodes, err = cl.Nodes(ctx)
		if err != nil {
			t.Logf("Nodes: %v", err)
			return false
		}
		up := 0
		for _, n := range nodes {
			if n.State == wire.FleetUp && n.Counts["RUNNING"] == 3 {
				up++
			}
		}
		return up == len(names)
	})
	// The snapshot keys live on more than one master: a single MGET
	// could not have read them.
	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs})
	defer c.Close()
	masters := map[string]bool{}
	for _, name := range names {
		sh, err := c.MasterForKey(ctx, "c:node:"+name)
		if err != nil {
			t.Fatal(err)
		}
		masters[sh.Options().Addr] = true
	}
	if len(masters) < 2 {
		t.Errorf("the snapshots all live on one master (%v): the test proves nothing", masters)
	}

	// A command reaches a node and its result comes back.
	id, _, err := cl.Send(ctx, wire.FleetRestart, "worker", []string{"b", "c"}, 1)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "b and c report done", func() bool {
		res, err := cl.Results(ctx, id)
		return err == nil && res["b"].State == wire.FleetDone && res["c"].State == wire.FleetDone
	})

	// Leases: a cap of 5 across two nodes each holding 1.
	capped := func(name string) *Leases {
		l, err := NewLeases(cfg(name), log)
		if err != nil {
			t.Fatal(err)
		}
		l.Follow(func() []Capped { return []Capped{{Name: "worker", Max: 5, Base: 1, Live: 1}} }, beat)
		return l
	}
	la, lb := capped("a"), capped("b")
	defer lb.Stop()
	la.renew(ctx)
	lb.renew(ctx)
	if got := la.Acquire("worker", 4); got != 3 {
		t.Errorf("a acquired %d of 4 (cap 5, b holds 1), want 3", got)
	}
	la.Stop()
	if got := lb.Acquire("worker", 4); got != 4 {
		t.Errorf("after a gave its lease back, b acquired %d of 4, want 4", got)
	}

	// A node that leaves is no longer listed.
	members[0].Stop(true)
	waitFor(t, "a left", func() bool {
		nodes, err = cl.Nodes(ctx)
		for _, n := range nodes {
			if n.Name == "a" {
				return false
			}
		}
		return err == nil && len(nodes) == len(names)-1
	})
	if n := log.count("unreachable"); n != 0 {
		t.Errorf("%d losses of Redis logged on a healthy cluster", n)
	}
}
