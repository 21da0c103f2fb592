package fleet

import (
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/drover/drover/internal/config"
)

// roundTrip bounds one Redis exchange, a beat too. Not the heartbeat
// interval: with a short one a reply a little late (a loaded host) would
// be logged as Redis unreachable, noise to an operator; a late beat only
// delays the next (the ticker drops ticks), and the view shows the node
// stale if it is late enough to matter.
const roundTrip = 2 * time.Second

// keys names the Redis keys of a fleet under its prefix.
type keys struct{ prefix string }

// members is the sorted set of node names scored by last beat (unix ms).
func (k keys) members() string { return k.prefix + "nodes" }

// node is a node's snapshot, a JSON string that expires ttlBeats after
// its last beat.
func (k keys) node(name string) string { return k.prefix + "node:" + name }

// commands is the stream of signed fleet commands; each node reads it in
// its own consumer group (consumerGroup) and acknowledges what it read.
func (k keys) commands() string { return k.prefix + "commands" }

// consumerGroup is a node's consumer group on the command stream: every
// node sees every command, once.
func consumerGroup(node string) string { return "node:" + node }

// ran marks that node received command id; it lives until the command
// expires (and a little more), so a re-delivered or replayed command is
// refused.
func (k keys) ran(node, id string) string { return k.prefix + "ran:" + node + ":" + id }

// result is the hash of the nodes' results of command id (node name ->
// JSON wire.FleetResult), kept resultRetention after the last write.
func (k keys) result(id string) string { return k.prefix + "result:" + id }

// leases is the hash of a group's leased workers by node name (fleet_max).
// The braces keep it in one Redis Cluster slot with leaseExpiry: the
// lease script uses both.
func (k keys) leases(group string) string { return k.prefix + "lease:{" + group + "}" }

// leaseExpiry is the sorted set of a group's leasing nodes scored by the
// expiry of their lease (unix ms, Redis's clock).
func (k keys) leaseExpiry(group string) string { return k.prefix + "lease-exp:{" + group + "}" }

// The fields of a command stream entry.
const (
	fieldBody = "cmd"
	fieldSig  = "sig"
)

const (
	// maxCommands bounds the command stream (XADD MAXLEN ~).
	maxCommands = 1000
	// resultRetention is how long results stay readable after a write.
	resultRetention = 10 * time.Minute
)

// newClient opens go-redis's universal client on the [fleet] URL: one
// server, a Redis Cluster from its seed addresses (redis_cluster), or the
// master that Redis Sentinel names (redis_sentinel_master). It connects
// lazily and does not retry: the next beat is the retry.
//
// What the fleet sends works on a Cluster: no transaction and no
// multi-key command spans keys of different slots (the beats are plain
// pipelines, snapshots are read with one GET each, a lease's two keys
// share the hash tag of their group).
func newClient(cfg *config.Fleet) (redis.UniversalClient, error) {
	uo := &redis.UniversalOptions{MaxRetries: -1, DialTimeout: roundTrip, ReadTimeout: roundTrip, WriteTimeout: roundTrip, PoolSize: 2}
	switch {
	case cfg.RedisCluster:
		o, err := redis.ParseClusterURL(cfg.RedisURL)
		if err != nil {
			return nil, fmt.Errorf("fleet: redis_url: %w", err)
		}
		uo.Addrs, uo.Username, uo.Password, uo.TLSConfig, uo.IsClusterMode = o.Addrs, o.Username, o.Password, o.TLSConfig, true
	case cfg.RedisSentinelMaster != "":
		o, err := redis.ParseFailoverURL(cfg.RedisURL)
		if err != nil {
			return nil, fmt.Errorf("fleet: redis_url: %w", err)
		}
		// The URL's user and password are the master's, as with one
		// server (go-redis's URL would give them to the Sentinels); the
		// Sentinels' own come from their options. Without
		// RouteByLatency or RouteRandomly the universal client is
		// go-redis's failover client: every command goes to the master.
		uo.Addrs, uo.DB, uo.TLSConfig = o.SentinelAddrs, o.DB, o.TLSConfig
		uo.Username, uo.Password = o.SentinelUsername, o.SentinelPassword
		uo.MasterName, uo.SentinelUsername, uo.SentinelPassword = cfg.RedisSentinelMaster, cfg.RedisSentinelUsername, cfg.RedisSentinelPassword
	default:
		o, err := redis.ParseURL(cfg.RedisURL)
		if err != nil {
			return nil, fmt.Errorf("fleet: redis_url: %w", err)
		}
		uo.Addrs, uo.Username, uo.Password, uo.DB, uo.TLSConfig = []string{o.Addr}, o.Username, o.Password, o.DB, o.TLSConfig
	}
	return redis.NewUniversalClient(uo), nil
}
