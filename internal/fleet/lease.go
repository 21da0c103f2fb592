package fleet

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/guard"
	"github.com/drover/drover/internal/supervisor"
)

// leaseSync is the one atomic step of the leases of a group: it drops the
// nodes whose lease expired, sets this node's count to what it holds
// (ARGV[3], so a Redis that restarted empty learns it again), grants up to
// ARGV[4] more within the cap (ARGV[2]) and renews this node's lease for
// ARGV[1] ms. It returns the grant and the fleet total after it. Time is
// Redis's own, so the nodes' clocks do not matter. It is made (hashed) on
// first use, not in every run of the binary: supervisorctl is one too.
var leaseSync = sync.OnceValue(func() *redis.Script {
	return redis.NewScript(`
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
})

// Leases caps the workers of the pools with fleet_max across the fleet:
// the pools' Limiter (pool.Limiter). Each node holds a lease per capped
// group: its worker count in a Redis hash and the lease's expiry in a
// sorted set, renewed every heartbeat interval and lasting three of them,
// so a node that dies gives its share back within that time.
//
// The count written is the larger of the group's live processes and its
// numprocs plus what the scaler acquired: so workers the node runs without
// having asked (numprocs, which start without asking; processes a reload
// keeping unchanged programs kept, rolled or added) are counted at the next
// renewal, and a grant is counted before its workers start. The capped
// groups and their numprocs are read from the running node at each step,
// so a reload that changes fleet_max or numprocs, or adds a capped group,
// is followed without a restart.
type Leases struct {
	keys keys
	node string
	ttl  time.Duration
	rdb  redis.UniversalClient
	log  Logger

	mu     sync.Mutex
	groups func() []Capped      // set by Follow
	held   map[string]int       // per group, acquired beyond numprocs
	shares map[string]leaseView // per group written, as of its last sync
	lost   bool                 // the last sync failed

	cancel context.CancelFunc
	done   chan struct{}
}

// Capped is a group with fleet_max as the node runs it now.
type Capped struct {
	Name string
	Max  int // fleet_max
	Base int // numprocs: started without asking
	Live int // processes not stopped (starting, running, backoff, stopping)
}

// leaseView is what the last sync of a group wrote and read.
type leaseView struct{ max, mine, total int }

// NewLeases returns the fleet's leases; they renew nothing until Follow.
func NewLeases(cfg *config.Fleet, log Logger) (*Leases, error) {
	rdb, err := newClient(cfg)
	if err != nil {
		return nil, err
	}
	return &Leases{keys: keys{cfg.KeyPrefix}, node: cfg.NodeName, ttl: ttlBeats * cfg.HeartbeatInterval, rdb: rdb, log: log,
		held: map[string]int{}, shares: map[string]leaseView{}, done: make(chan struct{})}, nil
}

// Follow gives the leases the capped groups of the running node and
// renews them every interval until Stop. Call it once, before the pools
// scale.
func (l *Leases) Follow(groups func() []Capped, interval time.Duration) {
	l.mu.Lock()
	l.groups = groups
	l.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	l.cancel = cancel
	guard.Go("fleet leases", func() {
		defer close(l.done)
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			l.renew(ctx)
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	})
}

// CappedGroups reads the groups with fleet_max of sup as they run now.
func CappedGroups(sup *supervisor.Supervisor) func() []Capped {
	return func() []Capped {
		var out []Capped
		for _, g := range sup.Groups() {
			sc := g.Config.Scaling
			if sc == nil || sc.FleetMax <= 0 {
				continue
			}
			c := Capped{Name: g.Config.Name, Max: sc.FleetMax, Base: len(g.Config.Processes)}
			for _, p := range g.Processes {
				if !p.Info().State.IsStopped() {
					c.Live++
				}
			}
			out = append(out, c)
		}
		return out
	}
}

// renew syncs every capped group, and gives back the lease of a group
// that is no longer capped (removed, or its fleet_max dropped).
func (l *Leases) renew(ctx context.Context) {
	now := map[string]bool{}
	for _, c := range l.capped() {
		now[c.Name] = true
		l.sync(ctx, c, 0)
	}
	l.mu.Lock()
	var gone []string
	for group := range l.shares {
		if !now[group] {
			gone = append(gone, group)
			delete(l.shares, group)
			delete(l.held, group)
		}
	}
	l.mu.Unlock()
	if len(gone) > 0 {
		l.giveBack(ctx, gone)
	}
}

// capped returns the capped groups now; none before Follow.
func (l *Leases) capped() []Capped {
	l.mu.Lock()
	groups := l.groups
	l.mu.Unlock()
	if groups == nil {
		return nil
	}
	return groups()
}

// capOf returns the capped group called group, false when it is not.
func (l *Leases) capOf(group string) (Capped, bool) {
	for _, c := range l.capped() {
		if c.Name == group {
			return c, true
		}
	}
	return Capped{}, false
}

// giveBack deletes this node's leases of groups, bounded by one round trip.
func (l *Leases) giveBack(ctx context.Context, groups []string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), roundTrip)
	defer cancel()
	l.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, group := range groups {
			p.HDel(ctx, l.keys.leases(group), l.node)
			p.ZRem(ctx, l.keys.leaseExpiry(group), l.node)
		}
		return nil
	})
}

// Stop ends the renewals and gives this node's leases back at once.
func (l *Leases) Stop() {
	if l.cancel != nil {
		l.cancel()
		<-l.done
	}
	l.mu.Lock()
	var groups []string
	for group := range l.shares {
		groups = append(groups, group)
	}
	l.mu.Unlock()
	if len(groups) > 0 {
		l.giveBack(context.Background(), groups)
	}
	l.rdb.Close()
}

// Acquire asks for n more workers of group: as many as the cap leaves
// free across the fleet; none while Redis is unreachable (the pool holds
// its size).
func (l *Leases) Acquire(group string, n int) int {
	c, capped := l.capOf(group)
	if !capped {
		return n
	}
	return l.sync(context.Background(), c, n)
}

// Release gives back n workers of group.
func (l *Leases) Release(group string, n int) {
	l.mu.Lock()
	l.held[group] = max(l.held[group]-n, 0)
	l.mu.Unlock()
	if c, capped := l.capOf(group); capped {
		l.sync(context.Background(), c, 0)
	}
}

// Share returns this node's workers of a capped group as leased at the
// last sync, the fleet total then and the cap; ok is false for a group
// without fleet_max (or nil Leases).
func (l *Leases) Share(group string) (mine, total, limit int, ok bool) {
	if l == nil {
		return 0, 0, 0, false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	v, ok := l.shares[group]
	return v.mine, v.total, v.max, ok
}

// sync runs leaseSync for group c asking want more, and returns the
// grant. One sync at a time: the count it writes is the one it holds.
func (l *Leases) sync(ctx context.Context, c Capped, want int) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, roundTrip)
	defer cancel()
	mine := max(c.Live, c.Base+l.held[c.Name])
	res, err := leaseSync().Run(ctx, l.rdb, []string{l.keys.leases(c.Name), l.keys.leaseExpiry(c.Name)},
		l.ttl.Milliseconds(), c.Max, mine, want, l.node).Int64Slice()
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
	grant := int(res[0])
	l.held[c.Name] += grant
	l.shares[c.Name] = leaseView{max: c.Max, mine: mine + grant, total: int(res[1])}
	return grant
}
