package fleet

import (
	"context"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/drover/drover/internal/config"
)

// This file is the leases' side of an in-place upgrade (package handover).
// A lease is this node's entry in Redis, under the node's name: the new
// image, a node of the same name, renews the very entries the old one
// wrote, so nothing in Redis is handed over or written twice. What lives in
// memory is handed over by the pools (the workers each scaler acquired,
// pool.Handed.Leased) and given back here with TakeOver; HoldForHandover
// keeps the entries from expiring while no image renews them.

// leaseHandoverHold is how long this node's leases are made to last at the
// switch, at least: longer than any take-over takes to renew them. If the
// new image dies instead, its workers die with it and the share stays
// counted that long, which can only hold the fleet below its cap.
const leaseHandoverHold = 30 * time.Second

// leaseHoldTimeout bounds the extension: the runners are frozen meanwhile.
const leaseHoldTimeout = 500 * time.Millisecond

// leaseExtend makes this node's lease (ARGV[2]) of a group expire no
// sooner than ARGV[1] ms from now, keys included; a lease the node does
// not hold is left alone. It returns 1 when the node holds one. Made on
// first use, as leaseSync.
var leaseExtend = sync.OnceValue(func() *redis.Script {
	return redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local hold = tonumber(ARGV[1])
local exp = redis.call('ZSCORE', KEYS[2], ARGV[2])
if not exp then return 0 end
if tonumber(exp) < now + hold then redis.call('ZADD', KEYS[2], now + hold, ARGV[2]) end
for _, k in ipairs(KEYS) do
  local left = redis.call('PTTL', k)
  if left >= 0 and left < hold then redis.call('PEXPIRE', k, hold) end
end
return 1
`)
})

// HoldForHandover makes every lease this node holds last at least
// leaseHandoverHold, and stops every renewal, grant and release (and
// Share) until resume is called: the old image calls it once its
// supervisor is frozen, just before the exec, and resume only if the exec
// did not happen. Nil Leases hold nothing.
func (l *Leases) HoldForHandover() (resume func()) {
	if l == nil {
		return func() {}
	}
	l.mu.Lock()
	ctx, cancel := context.WithTimeout(context.Background(), leaseHoldTimeout)
	defer cancel()
	_, err := l.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for group := range l.shares {
			leaseExtend().Eval(ctx, p, []string{l.keys.leases(group), l.keys.leaseExpiry(group)},
				leaseHandoverHold.Milliseconds(), l.node)
		}
		return nil
	})
	if err != nil {
		l.log.Logf(config.LevelWarn, "fleet: the leases could not be extended for the upgrade (they last until their expiry): %v", err)
	}
	return l.mu.Unlock
}

// TakeOver gives the leases what the previous image held: by group, the
// workers its scalers acquired beyond numprocs. Call it before Follow: the
// first renewal writes this node's count as the previous image did, and a
// group no longer capped in this image's configuration gives its lease back
// at once. Nil Leases take nothing.
func (l *Leases) TakeOver(held map[string]int) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for group, n := range held {
		l.held[group] = max(n, 0)
		if _, ok := l.shares[group]; !ok {
			l.shares[group] = leaseView{}
		}
	}
}
