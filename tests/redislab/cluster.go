package redislab

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/drover/drover/tests/laravelenv"
)

// StartCluster runs a Redis Cluster of three masters on loopback (made
// with `redis-cli --cluster create`) and returns their addresses once each
// says cluster_state:ok, polling every poll. It skips t without
// redis-server or redis-cli.
func StartCluster(t testing.TB, poll time.Duration) []string {
	t.Helper()
	if missing := laravelenv.MissingTool("", "redis-server", "redis-cli"); missing != "" {
		t.Skip(missing)
	}
	dir := laravelenv.TempDir(t, "cluster")
	var addrs []string
	for tries := 0; len(addrs) < 3; tries++ {
		if tries == 100 {
			t.Fatal("no free ports for a cluster")
		}
		r := laravelenv.NewRedis(t, dir)
		// A cluster node also listens on its bus port, port + 10000.
		bus, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", r.Port+10000))
		if err != nil {
			continue
		}
		bus.Close()
		r.Args = []string{"--cluster-enabled", "yes", "--cluster-config-file", fmt.Sprintf("nodes-%d.conf", r.Port)}
		r.Start(t, poll)
		addrs = append(addrs, addr(r.Port))
	}
	out, err := exec.Command("redis-cli", append(append([]string{"--cluster", "create"}, addrs...),
		"--cluster-replicas", "0", "--cluster-yes")...).CombinedOutput()
	if err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	for _, a := range addrs {
		c := redis.NewClient(&redis.Options{Addr: a})
		laravelenv.WaitFor(t, a+" says cluster_state:ok", waitBound, poll, func() bool {
			info, _ := c.ClusterInfo(context.Background()).Result()
			return strings.Contains(info, "cluster_state:ok")
		})
		c.Close()
	}
	return addrs
}
