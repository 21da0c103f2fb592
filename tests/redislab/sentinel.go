package redislab

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/drover/drover/tests/laravelenv"
)

// The names and passwords of the Sentinel setup. The servers and the
// Sentinels each have a password for their default user (requirepass)
// and an ACL user with a password of its own.
const (
	MasterName = "fleetmaster"

	MasterPassword     = "master-pw"
	MasterUser         = "fleet"
	MasterUserPassword = "fleet-pw"

	SentinelPassword     = "sentinel-pw"
	SentinelUser         = "fleet-sentinel"
	SentinelUserPassword = "fleet-sentinel-pw"
)

// waitBound bounds each wait of the lab (a start, a failover) on a loaded
// machine.
const waitBound = 60 * time.Second

// Sentinel is a master and its replica watched by two Sentinels under the
// name MasterName.
type Sentinel struct {
	Servers   []*laravelenv.Redis // the first starts as master, the second as its replica
	Sentinels []*laravelenv.Redis
	clients   []*redis.SentinelClient // one per Sentinel
}

// StartSentinel starts the setup and returns once each Sentinel knows the
// replica (a failover needs one), polling every poll. It skips t without
// redis-server.
func StartSentinel(t testing.TB, poll time.Duration) *Sentinel {
	t.Helper()
	if missing := laravelenv.MissingTool("", "redis-server"); missing != "" {
		t.Skip(missing)
	}
	s := &Sentinel{}
	for i := range 2 {
		r := laravelenv.NewRedis(t, laravelenv.TempDir(t, "sentinel-redis"))
		r.Args = []string{"--requirepass", MasterPassword, "--masterauth", MasterPassword,
			"--user", MasterUser, "on", ">" + MasterUserPassword, "~*", "&*", "+@all"}
		if i == 1 {
			r.Args = append(r.Args, "--replicaof", "127.0.0.1", strconv.Itoa(s.Servers[0].Port))
		}
		r.Start(t, poll)
		s.Servers = append(s.Servers, r)
	}
	for range 2 {
		dir := laravelenv.TempDir(t, "sentinel")
		r := laravelenv.NewRedis(t, dir)
		r.ConfFile = filepath.Join(dir, "sentinel.conf")
		conf := fmt.Sprintf("sentinel monitor %[1]s 127.0.0.1 %[2]d 1\nsentinel auth-pass %[1]s %[3]s\n"+
			"sentinel down-after-milliseconds %[1]s 1000\nsentinel failover-timeout %[1]s 3000\n"+
			"requirepass %[4]s\nsentinel sentinel-pass %[4]s\nuser %[5]s on >%[6]s ~* &* +@all\n",
			MasterName, s.Servers[0].Port, MasterPassword, SentinelPassword, SentinelUser, SentinelUserPassword)
		if err := os.WriteFile(r.ConfFile, []byte(conf), 0o644); err != nil {
			t.Fatal(err)
		}
		r.Args = []string{"--sentinel"}
		r.Start(t, poll)
		s.Sentinels = append(s.Sentinels, r)
		c := redis.NewSentinelClient(&redis.Options{Addr: addr(r.Port), Password: SentinelPassword})
		t.Cleanup(func() { c.Close() })
		s.clients = append(s.clients, c)
	}
	s.awaitReplica(t, poll)
	return s
}

// awaitReplica waits until each Sentinel knows a replica of the master
// that is up and in sync: one it can promote.
func (s *Sentinel) awaitReplica(t testing.TB, poll time.Duration) {
	t.Helper()
	for i, c := range s.clients {
		laravelenv.WaitFor(t, fmt.Sprintf("Sentinel %d knows a replica in sync", i+1), waitBound, poll, func() bool {
			replicas, err := c.Replicas(context.Background(), MasterName).Result()
			return err == nil && slices.ContainsFunc(replicas, func(r map[string]string) bool {
				return !strings.Contains(r["flags"], "down") && !strings.Contains(r["flags"], "disconnected") &&
					r["master-link-status"] == "ok"
			})
		})
	}
}

func addr(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }

// URL is the [fleet] redis_url of the setup: userinfo for the master
// (":" + MasterPassword, or MasterUser + ":" + MasterUserPassword), the
// first Sentinel's address, the second's as an addr parameter, database db.
func (s *Sentinel) URL(userinfo string, db int) string {
	return fmt.Sprintf("redis://%s@%s/%d?addr=%s", userinfo, addr(s.Sentinels[0].Port), db, addr(s.Sentinels[1].Port))
}

// Master is the address of the master as the first Sentinel names it.
func (s *Sentinel) Master(t testing.TB) string {
	t.Helper()
	a, err := s.clients[0].GetMasterAddrByName(context.Background(), MasterName).Result()
	if err != nil {
		t.Fatalf("SENTINEL GET-MASTER-ADDR-BY-NAME: %v", err)
	}
	return net.JoinHostPort(a[0], a[1])
}

// Client is a plain client of database db of the server at address a.
func (s *Sentinel) Client(t testing.TB, a string, db int) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: a, Password: MasterPassword, DB: db})
	t.Cleanup(func() { c.Close() })
	return c
}

// Failover asks the first Sentinel for a failover (SENTINEL FAILOVER: the
// replica is promoted, the old master turned into its replica) and
// returns the new master's address (awaitMaster).
func (s *Sentinel) Failover(t testing.TB, poll time.Duration) string {
	t.Helper()
	old := s.Master(t)
	if err := s.clients[0].Failover(context.Background(), MasterName).Err(); err != nil {
		t.Fatalf("SENTINEL FAILOVER: %v", err)
	}
	return s.awaitMaster(t, old, poll)
}

// StopMaster stops the master's redis-server once its replica says it is
// in sync (the Sentinels' own view of the replica is refreshed only every
// 10 s, and need not be: it was linked when they last looked): the
// Sentinels see the master down after down-after-milliseconds (1 s) and
// promote the replica. It returns the new master's address (awaitMaster).
func (s *Sentinel) StopMaster(t testing.TB, poll time.Duration) string {
	t.Helper()
	old := s.Master(t)
	var master, replica *laravelenv.Redis
	for _, r := range s.Servers {
		if addr(r.Port) == old {
			master = r
		} else {
			replica = r
		}
	}
	c := s.Client(t, addr(replica.Port), 0)
	laravelenv.WaitFor(t, "the replica in sync with the master", waitBound, poll, func() bool {
		info, err := c.Info(context.Background(), "replication").Result()
		return err == nil && strings.Contains(info, "master_link_status:up")
	})
	master.Stop()
	return s.awaitMaster(t, old, poll)
}

// awaitMaster waits until both Sentinels name a master other than old and
// that server says it is a master, and returns its address.
func (s *Sentinel) awaitMaster(t testing.TB, old string, poll time.Duration) string {
	t.Helper()
	ctx := context.Background()
	var now string
	laravelenv.WaitFor(t, "both Sentinels name a new master", waitBound, poll, func() bool {
		var names []string
		for _, c := range s.clients {
			a, err := c.GetMasterAddrByName(ctx, MasterName).Result()
			if err != nil {
				return false
			}
			names = append(names, net.JoinHostPort(a[0], a[1]))
		}
		now = names[0]
		return now != old && names[1] == now
	})
	c := s.Client(t, now, 0)
	laravelenv.WaitFor(t, "the new master says it is one", waitBound, poll, func() bool {
		info, err := c.Info(ctx, "replication").Result()
		return err == nil && strings.Contains(info, "role:master")
	})
	return now
}
