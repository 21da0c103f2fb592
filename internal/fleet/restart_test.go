package fleet

import (
	"context"
	"fmt"
	"testing"
	"time"

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
