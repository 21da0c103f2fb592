package fleet

import (
	"context"
	"encoding/json"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/events"
	"github.com/drover/drover/internal/guard"
	"github.com/drover/drover/internal/supervisor"
)

// debounce gathers a burst of state changes into one publication.
const debounce = 100 * time.Millisecond

// Logger is the main log.
type Logger interface {
	Logf(level config.LogLevel, format string, args ...any)
}

// memberInfo is what a node says about itself besides its snapshot.
type memberInfo struct {
	name     string
	labels   map[string]string
	interval time.Duration
	leases   *Leases // the shares of fleet_max groups; may be nil
}

// Member publishes this node to the fleet: a beat every heartbeat
// interval, and soon after each process state change. Only the latest
// snapshot is ever sent: a beat that fails is dropped, not queued.
type Member struct {
	keys     keys
	info     memberInfo
	rdb      redis.UniversalClient
	snapshot func() supervisor.Snapshot
	log      Logger
	lost     bool   // the last beat failed; only the loop reads and writes it
	agent    *agent // nil without a secret
	grouped  bool   // the agent's consumer group exists, as far as the loop knows
	agentEnd chan struct{}

	cancel context.CancelFunc
	done   chan struct{}
}

// Join starts publishing this node and, with a secret in [fleet], running
// the fleet commands sent to it. Redis need not be up: the node beats when
// it can and logs the loss and the recovery once each. Stop ends it.
func Join(cfg *config.Fleet, sup *supervisor.Supervisor, roll Roller, leases *Leases, bus *events.Bus, log Logger) (*Member, error) {
	return join(cfg, sup.Snapshot, func(ctx context.Context, c command) (string, error) { return runAction(ctx, sup, roll, c) },
		leases, bus, log)
}

// JoinSimulated publishes a node with no daemon behind it: snapshot says
// what it runs, and with a secret it reads its commands and reports them
// done without running anything. It talks to Redis exactly as a daemon's
// Member does (the same beats, debounce and command reads): the fleet
// benchmark (tools/bench) simulates the nodes it cannot run for real with it.
func JoinSimulated(cfg *config.Fleet, snapshot func() supervisor.Snapshot, log Logger) (*Member, error) {
	simulated := func(context.Context, command) (string, error) { return "simulated node: nothing run", nil }
	return join(cfg, snapshot, simulated, nil, &events.Bus{}, log)
}

func join(cfg *config.Fleet, snapshot func() supervisor.Snapshot, run func(context.Context, command) (string, error),
	leases *Leases, bus *events.Bus, log Logger) (*Member, error) {
	rdb, err := newClient(cfg)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	m := &Member{keys: keys{cfg.KeyPrefix}, rdb: rdb, snapshot: snapshot, log: log,
		info:   memberInfo{name: cfg.NodeName, labels: cfg.Labels, interval: cfg.HeartbeatInterval, leases: leases},
		cancel: cancel, done: make(chan struct{})}
	if cfg.Secret != "" {
		// Its own connection: a blocked read of the stream must not
		// hold back a beat.
		ardb, err := newClient(cfg)
		if err != nil {
			rdb.Close()
			return nil, err
		}
		m.agent = &agent{keys: m.keys, node: cfg.NodeName, secret: cfg.Secret, rdb: ardb, log: log, now: time.Now, run: run}
	}
	sub := bus.Subscribe(events.Named("fleet"), events.Kinds("PROCESS_STATE"), events.Latest()) // a change only hastens the next beat
	guard.Go("fleet member", func() {
		defer close(m.done)
		defer sub.Close()
		m.run(ctx, sub)
	})
	return m, nil
}

// Stop ends the beats and closes the connection. On a shutdown
// (deregister) the node leaves the fleet at once: its key and its entry
// in the member set are deleted. On a reload they are left: the node
// beats again within a moment.
func (m *Member) Stop(deregister bool) {
	m.cancel()
	<-m.done
	if m.agent != nil {
		m.agent.rdb.Close() // ends a blocked read at once
		<-m.agentEnd
	}
	if deregister {
		m.leave()
	}
	m.rdb.Close()
}

// leave deletes the node's keys, bounded by one round trip; with Redis
// away they expire as after a death.
func (m *Member) leave() {
	ctx, cancel := context.WithTimeout(context.Background(), roundTrip)
	defer cancel()
	_, err := m.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.Del(ctx, m.keys.node(m.info.name))
		p.ZRem(ctx, m.keys.members(), m.info.name)
		return nil
	})
	if err != nil {
		m.log.Logf(config.LevelWarn, "fleet: node %s could not leave the fleet (its key expires instead): %v", m.info.name, err)
		return
	}
	m.log.Logf(config.LevelInfo, "fleet: node %s left the fleet", m.info.name)
}

func (m *Member) run(ctx context.Context, sub *events.Subscription) {
	tick := time.NewTicker(m.info.interval)
	defer tick.Stop()
	var changed <-chan time.Time // set while a debounced beat waits
	if m.agent != nil {
		m.agentEnd = make(chan struct{})
		guard.Go("fleet commands", func() {
			defer close(m.agentEnd)
			m.agent.loop(ctx)
		})
	}
	m.beat(ctx)
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-sub.Ready():
			sub.Next()
			if changed == nil {
				changed = time.After(debounce)
			}
			continue
		case <-changed:
		}
		changed = nil
		m.beat(ctx)
	}
}

// beat publishes the current snapshot; a panic in one beat does not end
// the membership.
//
// The node's consumer group is made before the node is listed, so a
// command sent to it as soon as it appears reaches it. After a failed
// beat Redis may have come back empty: the group is made again before
// the node reappears, not when the agent's next read finds it missing
// (by then a command sent meanwhile lies before the group's start).
func (m *Member) beat(ctx context.Context) {
	guard.Run("fleet beat", func() {
		var err error
		if m.agent != nil && !m.grouped {
			err = m.agent.ensureGroup(ctx)
		}
		if err == nil {
			err = m.publish(ctx, time.Now())
		}
		m.grouped = m.agent != nil && err == nil
		if ctx.Err() != nil {
			return
		}
		switch {
		case err != nil && !m.lost:
			m.lost = true
			m.log.Logf(config.LevelWarn, "fleet: Redis unreachable, node %s not published (supervision goes on): %v", m.info.name, err)
		case err == nil && m.lost:
			m.lost = false
			m.log.Logf(config.LevelInfo, "fleet: Redis reachable again, node %s published", m.info.name)
		}
	})
}

// publish writes the node's snapshot with its lifetime, its place in the
// member set, and prunes members gone for longer than the retention, in
// one round trip.
func (m *Member) publish(ctx context.Context, now time.Time) error {
	body, err := json.Marshal(encode(m.snapshot(), m.info, now))
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, roundTrip)
	defer cancel()
	// A plain pipeline, not a transaction: the keys may live in different
	// slots of a Redis Cluster, and a beat half written is mended by the next.
	_, err = m.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, m.keys.node(m.info.name), body, ttlBeats*m.info.interval)
		p.ZAdd(ctx, m.keys.members(), redis.Z{Score: float64(now.UnixMilli()), Member: m.info.name})
		p.ZRemRangeByScore(ctx, m.keys.members(), "-inf",
			"("+strconv.FormatInt(now.Add(-retentionBeats*m.info.interval).UnixMilli(), 10))
		return nil
	})
	return err
}
