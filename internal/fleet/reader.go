package fleet

import (
	"context"
	"encoding/json"
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

// Reader reads every node of the fleet from Redis.
type Reader struct {
	keys keys
	rdb  redis.UniversalClient
	now  func() time.Time
}

// NewReader opens a reader on the [fleet] Redis; Close it when done.
func NewReader(cfg *config.Fleet) (*Reader, error) {
	rdb, err := newClient(cfg)
	if err != nil {
		return nil, err
	}
	return &Reader{keys: keys{cfg.KeyPrefix}, rdb: rdb, now: time.Now}, nil
}

// Close closes the connection.
func (r *Reader) Close() error { return r.rdb.Close() }

// Nodes returns every listed node by name, classified at the time of the
// read. A gone node has its name, state and last beat only.
func (r *Reader) Nodes(ctx context.Context) ([]wire.FleetNode, error) {
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
	bodies, err := r.rdb.MGet(ctx, ks...).Result()
	if err != nil {
		return nil, fmt.Errorf("fleet: Redis unreachable: %w", err)
	}
	return decodeNodes(names, members, bodies, r.now()), nil
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
		beat := time.UnixMilli(n.Beat)
		n.State = classify(now, beat, time.Duration(n.IntervalMS)*time.Millisecond, present)
		n.AgeMS = now.Sub(beat).Milliseconds()
		out = append(out, n)
	}
	slices.SortFunc(out, func(a, b wire.FleetNode) int { return strings.Compare(a.Name, b.Name) })
	return out
}
