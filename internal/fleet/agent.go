package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/guard"
	"github.com/drover/drover/internal/wire"
)

const (
	// readBlock is how long one read of the command stream waits.
	readBlock = time.Second
	// readCount bounds the entries taken in one read: the rest waits in
	// Redis, not in memory.
	readCount = 16
)

// agent reads this node's commands from the stream and carries them out
// one at a time. Losing Redis is the Member's to log; the agent just
// tries again at the next read.
type agent struct {
	keys   keys
	node   string
	secret string
	rdb    redis.UniversalClient
	run    func(ctx context.Context, c command) (string, error)
	log    Logger
	now    func() time.Time
}

// ensureGroup creates this node's consumer group at the stream's end (and
// the stream), unless it exists.
func (a *agent) ensureGroup(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, roundTrip)
	defer cancel()
	err := a.rdb.XGroupCreateMkStream(ctx, a.keys.commands(), consumerGroup(a.node), "$").Err()
	if err != nil && strings.HasPrefix(err.Error(), "BUSYGROUP") {
		return nil
	}
	return err
}

// loop reads until ctx ends: first the entries this node read but did not
// acknowledge before (it stopped in the middle), then new ones.
func (a *agent) loop(ctx context.Context) {
	pending := true
	for ctx.Err() == nil {
		start := ">"
		if pending {
			start = "0"
		}
		streams, err := a.rdb.XReadGroup(ctx, &redis.XReadGroupArgs{Group: consumerGroup(a.node), Consumer: a.node,
			Streams: []string{a.keys.commands(), start}, Count: readCount, Block: readBlock}).Result()
		switch {
		case errors.Is(err, redis.Nil):
			continue
		case err != nil && strings.HasPrefix(err.Error(), "NOGROUP"):
			// Redis lost the group (restarted empty): read from now on.
			if a.ensureGroup(ctx) != nil {
				sleep(ctx, readBlock)
			}
			continue
		case err != nil:
			sleep(ctx, readBlock)
			continue
		}
		var msgs []redis.XMessage
		for _, s := range streams {
			msgs = append(msgs, s.Messages...)
		}
		if pending && len(msgs) == 0 {
			pending = false
		}
		for _, m := range msgs {
			guard.Run("fleet command", func() { a.handle(ctx, m) })
			actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), roundTrip)
			a.rdb.XAck(actx, a.keys.commands(), consumerGroup(a.node), m.ID)
			cancel()
		}
	}
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// handle checks one stream entry and, if it is a valid command for this
// node that it never received before, carries it out and reports.
func (a *agent) handle(ctx context.Context, m redis.XMessage) {
	body, _ := m.Values[fieldBody].(string)
	sig, _ := m.Values[fieldSig].(string)
	c, err := open(a.secret, body, sig)
	if err != nil {
		a.log.Logf(config.LevelWarn, "fleet: refused command (stream entry %s): %v", m.ID, err)
		return
	}
	if !c.targets(a.node) {
		return
	}
	now := a.now()
	if err := c.check(now); err != nil {
		a.log.Logf(config.LevelWarn, "fleet: refused command %s (%s %s from %s): %v", c.ID, c.Action, c.Group, c.From, err)
		a.report(ctx, c.ID, wire.FleetResult{State: wire.FleetRefused, Message: err.Error()}, false)
		return
	}
	rctx, cancel := context.WithTimeout(ctx, roundTrip)
	first, err := a.rdb.SetNX(rctx, a.keys.ran(a.node, c.ID), m.ID,
		time.UnixMilli(c.Expires).Sub(now)+maxClockSkew).Result()
	cancel()
	switch {
	case err != nil:
		// Not knowing whether it ran, it does not run: at most once.
		a.log.Logf(config.LevelWarn, "fleet: command %s (%s %s) not run: Redis unreachable: %v", c.ID, c.Action, c.Group, err)
		return
	case !first:
		a.log.Logf(config.LevelWarn, "fleet: refused command %s (%s %s from %s, stream entry %s): already received (replayed or redelivered)",
			c.ID, c.Action, c.Group, c.From, m.ID)
		return
	}
	a.log.Logf(config.LevelInfo, "fleet: command %s from %s: %s %s", c.ID, c.From, c.Action, c.Group)
	a.report(ctx, c.ID, wire.FleetResult{State: wire.FleetRunning}, true)
	msg, err := a.run(ctx, c)
	res := wire.FleetResult{State: wire.FleetDone, Message: msg}
	if err != nil {
		res = wire.FleetResult{State: wire.FleetFailed, Message: err.Error()}
		a.log.Logf(config.LevelWarn, "fleet: command %s (%s %s) failed: %v", c.ID, c.Action, c.Group, err)
	}
	a.report(ctx, c.ID, res, true)
}

// report writes this node's result of command id; without overwrite it
// never replaces one already there.
func (a *agent) report(ctx context.Context, id string, res wire.FleetResult, overwrite bool) {
	res.At = a.now().UnixMilli()
	body, _ := json.Marshal(res)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), roundTrip)
	defer cancel()
	key := a.keys.result(id)
	a.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		if overwrite {
			p.HSet(ctx, key, a.node, body)
		} else {
			p.HSetNX(ctx, key, a.node, body)
		}
		p.Expire(ctx, key, resultRetention)
		return nil
	})
}
