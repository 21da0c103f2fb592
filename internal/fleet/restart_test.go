package fleet

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/wire"
	"github.com/drover/drover/tests/laravelenv"
)

// TestCommandRightAfterRedisRestart: Redis restarts empty (its consumer
// groups gone); a command sent the moment the node is listed again
// reaches it. The node's agent, which slept after its failed reads, must
// not be the one to make the group again: it would make it after the
// command.
func TestCommandRightAfterRedisRestart(t *testing.T) {
	if missing := laravelenv.MissingTool("", "redis-server"); missing != "" {
		t.Skip(missing)
	}
	r := laravelenv.NewRedis(t, t.TempDir())
	r.Start(t, 10*time.Millisecond)
	const beat = 50 * time.Millisecond
	cfg := &config.Fleet{RedisURL: fmt.Sprintf("redis://127.0.0.1:%d/0", r.Port), NodeName: "a",
		HeartbeatInterval: beat, KeyPrefix: "r:", Secret: "restart-test-secret-0123", CommandTTL: 3 * time.Second}
	log := &logLines{}
	m, err := JoinSimulated(cfg, testSnapshot, log)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Stop(true)
	cl, err := NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx := context.Background()
	listed := func() bool {
		nodes, err := cl.Nodes(ctx)
		return err == nil && len(nodes) == 1 && nodes[0].State == wire.FleetUp
	}

	for round := range 3 {
		waitFor(t, "a listed", listed)
		r.Stop()
		waitFor(t, "a notices the loss", func() bool { return log.count("Redis unreachable") > round })
		r.Start(t, 10*time.Millisecond)
		deadline := time.Now().Add(10 * time.Second)
		for !listed() {
			if time.Now().After(deadline) {
				t.Fatal("a not listed again after the restart")
			}
			time.Sleep(2 * time.Millisecond)
		}
		id, _, err := cl.Send(ctx, wire.FleetRestart, "worker", []string{"a"}, 1)
		if err != nil {
			t.Fatal(err)
		}
		deadline = time.Now().Add(cfg.CommandTTL + time.Second)
		for {
			res, err := cl.Results(ctx, id)
			if err == nil && res["a"].State == wire.FleetDone {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("round %d: the command sent as a reappeared never reached it: %v %v", round, res, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// TestSlowRedisIsNotUnreachable: Redis answers the beats of a node with a
// 100 ms interval only after 600 ms (CLIENT PAUSE, as a loaded host might):
// the node logs no loss of Redis, and beats again after the pause.
func TestSlowRedisIsNotUnreachable(t *testing.T) {
	port := startRedis(t)
	const beat = 100 * time.Millisecond
	cfg := &config.Fleet{RedisURL: fmt.Sprintf("redis://127.0.0.1:%d/0", port), NodeName: "a",
		HeartbeatInterval: beat, KeyPrefix: "p:"}
	log := &logLines{}
	m, err := JoinSimulated(cfg, testSnapshot, log)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Stop(true)
	rdb := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", port)})
	defer rdb.Close()
	ctx := context.Background()
	lastBeat := func() int64 {
		score, _ := rdb.ZScore(ctx, "p:nodes", "a").Result()
		return int64(score)
	}
	waitFor(t, "a beats", func() bool { return lastBeat() > 0 })
	if err := rdb.Do(ctx, "CLIENT", "PAUSE", 600, "WRITE").Err(); err != nil {
		t.Fatal(err)
	}
	resumed := time.Now().Add(600 * time.Millisecond).UnixMilli()
	waitFor(t, "a beats after the pause", func() bool { return lastBeat() > resumed })
	if n := log.count("unreachable"); n != 0 {
		t.Errorf("a slow Redis logged as unreachable %d times: %q", n, log.lines)
	}
}
