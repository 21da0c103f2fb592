package fleet

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/guard"
)

// leaseSync is the one atomic step of the leases of a group: it drops the
// nodes whose lease expired, sets this node's count to what it holds
// (ARGV[3], so a Redis that restarted empty learns it again), grants up to
// ARGV[4] more within the cap (ARGV[2]) and renews this node's lease for
// ARGV[1] ms. It returns the grant and the fleet total after it. Time is
// Redis's own, so the nodes' clocks do not matter.
var leaseSync = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[1])
local dead = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)
for _, n in ipairs(dead) do
  redis.call('HDEL', KEYS[1], n)
  redis.call('ZREM', KEYS[2], n)
end
local mine = tonumber(ARGV[3])
redis.call('HSET', KEYS[1], ARGV[5], mine)
local total = 0
for _, v in ipairs(redis.call('HVALS', KEYS[1])) do total = total + tonumber(v) end
local grant = math.max(0, math.min(tonumber(ARGV[4]), tonumber(ARGV[2]) - total))
redis.call('HSET', KEYS[1], ARGV[5], mine + grant)
redis.call('ZADD', KEYS[2], now + ttl, ARGV[5])
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('PEXPIRE', KEYS[2], ttl)
return {grant, total + grant}
`)

// Leases caps the workers of the pools with fleet_max across the fleet:
// the pools' Limiter (pool.Limiter). Each node holds a lease per capped
// group: its worker count in a Redis hash and the lease's expiry in a
// sorted set, renewed every heartbeat interval and lasting three of them,
// so a node that dies gives its share back within that time. A pool's
// configured numprocs count as always held (the pool starts them without
// asking); what its scaler adds is acquired, what it removes released.
type Leases struct {
	keys keys
	node string
	ttl  time.Duration
	rdb  redis.UniversalClient
	log  Logger
	caps map[string]leaseCap

	mu     sync.Mutex
	held   map[string]int // per group, acquired beyond numprocs
	totals map[string]int // per group, the fleet total at the last sync
	lost   bool           // the last sync failed

	cancel context.CancelFunc
	done   chan struct{}
}

// leaseCap is a capped group: its fleet_max and this node's numprocs.
type leaseCap struct{ max, base int }

// NewLeases returns the leases of the groups of groups with fleet_max, or
// nil when none has; it renews them until Stop.
func NewLeases(cfg *config.Fleet, groups []*config.Group, log Logger) (*Leases, error) {
	caps := map[string]leaseCap{}
	for _, g := range groups {
		if g.Scaling != nil && g.Scaling.FleetMax > 0 {
			caps[g.Name] = leaseCap{max: g.Scaling.FleetMax, base: len(g.Processes)}
		}
	}
	if len(caps) == 0 {
		return nil, nil
	}
	rdb, err := newClient(cfg)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	l := &Leases{keys: keys{cfg.KeyPrefix}, node: cfg.NodeName, ttl: ttlBeats * cfg.HeartbeatInterval, rdb: rdb, log: log,
		caps: caps, held: map[string]int{}, totals: map[string]int{}, cancel: cancel, done: make(chan struct{})}
	guard.Go("fleet leases", func() {
		defer close(l.done)
		tick := time.NewTicker(cfg.HeartbeatInterval)
		defer tick.Stop()
		for {
			for group := range caps {
				l.sync(ctx, group, 0)
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	})
	return l, nil
}

// Stop ends the renewals and gives this node's leases back at once.
func (l *Leases) Stop() {
	l.cancel()
	<-l.done
	ctx, cancel := context.WithTimeout(context.Background(), roundTrip)
	defer cancel()
	l.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		for group := range l.caps {
			p.HDel(ctx, l.keys.leases(group), l.node)
			p.ZRem(ctx, l.keys.leaseExpiry(group), l.node)
		}
		return nil
	})
	l.rdb.Close()
}

// Acquire asks for n more workers of group: as many as the cap leaves
// free across the fleet; none while Redis is unreachable (the pool holds
// its size).
func (l *Leases) Acquire(group string, n int) int {
	if _, capped := l.caps[group]; !capped {
		return n
	}
	return l.sync(context.Background(), group, n)
}

// Release gives back n workers of group.
func (l *Leases) Release(group string, n int) {
	if _, capped := l.caps[group]; !capped {
		return
	}
	l.mu.Lock()
	l.held[group] = max(l.held[group]-n, 0)
	l.mu.Unlock()
	l.sync(context.Background(), group, 0)
}

// Share returns this node's workers of a capped group as leased, the fleet
// total at the last sync and the cap; ok is false for a group without
// fleet_max (or nil Leases).
func (l *Leases) Share(group string) (mine, total, limit int, ok bool) {
	if l == nil {
		return 0, 0, 0, false
	}
	c, ok := l.caps[group]
	if !ok {
		return 0, 0, 0, false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return c.base + l.held[group], l.totals[group], c.max, true
}

// sync runs leaseSync for group asking want more, and returns the grant.
// One sync at a time: the count it writes is the one it holds.
func (l *Leases) sync(ctx context.Context, group string, want int) int {
	c := l.caps[group]
	l.mu.Lock()
	defer l.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, roundTrip)
	defer cancel()
	res, err := leaseSync.Run(ctx, l.rdb, []string{l.keys.leases(group), l.keys.leaseExpiry(group)},
		l.ttl.Milliseconds(), c.max, c.base+l.held[group], want, l.node).Int64Slice()
	if err == nil && len(res) != 2 {
		err = fmt.Errorf("lease script answered %v", res)
	}
	switch {
	case err != nil && !l.lost:
		l.lost = true
		l.log.Logf(config.LevelWarn, "fleet: leases unreachable, pools with fleet_max hold their size: %v", err)
	case err == nil && l.lost:
		l.lost = false
		l.log.Logf(config.LevelInfo, "fleet: leases reachable again")
	}
	if err != nil {
		return 0
	}
	l.held[group] += int(res[0])
	l.totals[group] = int(res[1])
	return int(res[0])
}
