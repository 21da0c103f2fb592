package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/wire"
)

// maxNodes bounds one read of the fleet, newest beats first.
const maxNodes = 1000

// Client reads every node of the fleet from Redis and sends them signed
// commands.
type Client struct {
	keys keys
	cfg  *config.Fleet
	rdb  redis.UniversalClient
	now  func() time.Time
}

// NewClient opens a client on the [fleet] Redis; Close it when done.
func NewClient(cfg *config.Fleet) (*Client, error) {
	rdb, err := newClient(cfg)
	if err != nil {
		return nil, err
	}
	return &Client{keys: keys{cfg.KeyPrefix}, cfg: cfg, rdb: rdb, now: time.Now}, nil
}

// Close closes the connection.
func (r *Client) Close() error { return r.rdb.Close() }

// Nodes returns every listed node by name, classified at the time of the
// read. A gone node has its name, state and last beat only.
func (r *Client) Nodes(ctx context.Context) ([]wire.FleetNode, error) {
	ctx, cancel := context.WithTimeout(ctx, roundTrip)
	defer cancel()
	members, err := r.rdb.ZRevRangeWithScores(ctx, r.keys.members(), 0, maxNodes-1).Result()
	if err != nil {
		return nil, fmt.Errorf("fleet: Redis unreachable: %w", err)
	}
	if len(members) == 0 {
		return []wire.FleetNode{}, nil
	}
	names := make([]string, len(members))
	ks := make([]string, len(members))
	for i, z := range members {
		names[i], _ = z.Member.(string)
		ks[i] = r.keys.node(names[i])
	}
	bodies, err := r.snapshots(ctx, ks)
	if err != nil {
		return nil, fmt.Errorf("fleet: Redis unreachable: %w", err)
	}
	names, members, bodies, err = r.dropLeft(ctx, names, members, bodies)
	if err != nil {
		return nil, fmt.Errorf("fleet: Redis unreachable: %w", err)
	}
	return decodeNodes(names, members, bodies, r.now()), nil
}

// snapshots reads the snapshot keys ks, nil for an expired one, with one
// GET each in one pipeline: an MGET would span the slots of a Redis
// Cluster (a cluster client sends each GET to its node).
func (r *Client) snapshots(ctx context.Context, ks []string) ([]any, error) {
	gets := make([]*redis.StringCmd, len(ks))
	_, err := r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, k := range ks {
			gets[i] = p.Get(ctx, k)
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, err
	}
	out := make([]any, len(ks))
	for i, g := range gets {
		switch v, err := g.Result(); {
		case err == nil:
			out[i] = v
		case !errors.Is(err, redis.Nil):
			return nil, err
		}
	}
	return out, nil
}

// dropLeft removes the nodes without a snapshot that are no longer
// members: they left the fleet between the two reads, and are not gone.
func (r *Client) dropLeft(ctx context.Context, names []string, members []redis.Z, bodies []any) (
	[]string, []redis.Z, []any, error) {
	if !slices.Contains(bodies, nil) {
		return names, members, bodies, nil
	}
	scores := map[int]*redis.FloatCmd{}
	_, err := r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, b := range bodies {
			if b == nil {
				scores[i] = p.ZScore(ctx, r.keys.members(), names[i])
			}
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, nil, nil, err
	}
	keep := func(i int) bool { c := scores[i]; return c == nil || !errors.Is(c.Err(), redis.Nil) }
	var n []string
	var m []redis.Z
	var b []any
	for i := range names {
		if keep(i) {
			n, m, b = append(n, names[i]), append(m, members[i]), append(b, bodies[i])
		}
	}
	return n, m, b, nil
}

// decodeNodes classifies the members read at now; bodies[i] is the
// snapshot of names[i], nil once expired.
func decodeNodes(names []string, members []redis.Z, bodies []any, now time.Time) []wire.FleetNode {
	out := make([]wire.FleetNode, 0, len(names))
	for i, name := range names {
		n := wire.FleetNode{Name: name, Beat: int64(members[i].Score)}
		body, present := bodies[i].(string)
		if present && json.Unmarshal([]byte(body), &n) != nil {
			present = false // an unreadable snapshot shows what is certain
			n = wire.FleetNode{Name: name, Beat: int64(members[i].Score)}
		}
		n.Name = name // a node is shown under the key it publishes to, whatever its body claims
		beat := time.UnixMilli(n.Beat)
		n.State = classify(now, beat, time.Duration(n.IntervalMS)*time.Millisecond, present)
		n.AgeMS = now.Sub(beat).Milliseconds()
		out = append(out, n)
	}
	slices.SortFunc(out, func(a, b wire.FleetNode) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Send signs a command for the named nodes and adds it to the command
// stream; each of them runs it when it reads it, unless it has expired by
// then (command_ttl). It returns the command's id and expiry.
func (r *Client) Send(ctx context.Context, action, group string, nodes []string, batch int) (string, time.Time, error) {
	switch {
	case r.cfg.Secret == "":
		return "", time.Time{}, errors.New("fleet actions need a secret in [fleet] (docs/fleet.md)")
	case !slices.Contains([]string{wire.FleetStart, wire.FleetStop, wire.FleetRestart, wire.FleetRoll}, action):
		return "", time.Time{}, fmt.Errorf("unknown fleet action %s", action)
	case len(nodes) == 0:
		return "", time.Time{}, errors.New("a fleet command needs at least one target node")
	}
	now := r.now()
	expires := now.Add(r.cfg.CommandTTL)
	c := command{ID: newCommandID(), Action: action, Group: group, Nodes: nodes, Batch: batch,
		From: r.cfg.NodeName, Issued: now.UnixMilli(), Expires: expires.UnixMilli()}
	body, sig, err := seal(r.cfg.Secret, c)
	if err != nil {
		return "", time.Time{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, roundTrip)
	defer cancel()
	err = r.rdb.XAdd(ctx, &redis.XAddArgs{Stream: r.keys.commands(), MaxLen: maxCommands, Approx: true,
		Values: []string{fieldBody, body, fieldSig, sig}}).Err()
	if err != nil {
		return "", time.Time{}, fmt.Errorf("fleet: Redis unreachable: %w", err)
	}
	return c.ID, expires, nil
}

// Results returns what the nodes reported so far of command id, by node.
func (r *Client) Results(ctx context.Context, id string) (map[string]wire.FleetResult, error) {
	ctx, cancel := context.WithTimeout(ctx, roundTrip)
	defer cancel()
	fields, err := r.rdb.HGetAll(ctx, r.keys.result(id)).Result()
	if err != nil {
		return nil, fmt.Errorf("fleet: Redis unreachable: %w", err)
	}
	out := make(map[string]wire.FleetResult, len(fields))
	for node, v := range fields {
		var res wire.FleetResult
		if json.Unmarshal([]byte(v), &res) == nil {
			out[node] = res
		}
	}
	return out, nil
}
