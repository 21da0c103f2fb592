package queue

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/drover/drover/internal/config"
)

// Sample is one reading of a pool's queues, summed over its queues.
type Sample struct {
	Ready    int // jobs in the lists
	Due      int // delayed jobs whose time has come
	Delayed  int // every delayed job, due or not
	Reserved int // jobs in flight
	Expired  int // reservations past retry_after (their worker died or hangs)
	// OldestWait is how long the oldest head of a list has been at its
	// head, as seen by this Source (Laravel 8 payloads carry no push
	// time), so it is a lower bound; 0 when every list is empty.
	OldestWait time.Duration
}

// Source samples a pool's queues.
type Source interface {
	Sample(ctx context.Context, now time.Time) (Sample, error)
	Close() error
}

// Redis samples a laravel-redis or redis-list source.
type Redis struct {
	src    config.QueueSource
	client *redis.Client

	mu    sync.Mutex
	heads map[string]head // by list key
}

type head struct {
	id    uint64 // hash of the head element
	since time.Time
}

// dialTimeout bounds every Redis round trip: a sample must not hang a pool.
const dialTimeout = 2 * time.Second

// Open returns the Source of src. It connects lazily.
func Open(src config.QueueSource) *Redis {
	return &Redis{src: src, client: newClient(src), heads: map[string]head{}}
}

func newClient(src config.QueueSource) *redis.Client {
	return redis.NewClient(&redis.Options{
		Addr: src.Addr, DB: src.DB, Username: src.Username, Password: src.Password,
		DialTimeout: dialTimeout, ReadTimeout: dialTimeout, WriteTimeout: dialTimeout,
		PoolSize: 2, MaxRetries: -1, DisableIdentity: true,
	})
}

// Close closes the connections.
func (r *Redis) Close() error { return r.client.Close() }

// Sample reads every queue of the source in one pipeline.
func (r *Redis) Sample(ctx context.Context, now time.Time) (Sample, error) {
	nowScore := strconv.FormatInt(now.Unix(), 10)
	type reads struct {
		key                                    string
		ready, due, delayed, reserved, expired *redis.IntCmd
		first                                  *redis.StringCmd
	}
	var rs []reads
	pipe := r.client.Pipeline()
	for _, q := range r.src.Keys {
		key := q
		if r.src.Kind == config.QueueLaravelRedis {
			key = r.src.Prefix + "queues:" + q
		}
		rd := reads{key: key, ready: pipe.LLen(ctx, key), first: pipe.LIndex(ctx, key, 0)}
		if r.src.Kind == config.QueueLaravelRedis {
			rd.due = pipe.ZCount(ctx, key+":delayed", "-inf", nowScore)
			rd.delayed = pipe.ZCard(ctx, key+":delayed")
			rd.reserved = pipe.ZCard(ctx, key+":reserved")
			rd.expired = pipe.ZCount(ctx, key+":reserved", "-inf", nowScore)
		}
		rs = append(rs, rd)
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return Sample{}, fmt.Errorf("read queue: %w", err)
	}
	var s Sample
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rd := range rs {
		s.Ready += int(rd.ready.Val())
		if rd.due != nil {
			s.Due += int(rd.due.Val())
			s.Delayed += int(rd.delayed.Val())
			s.Reserved += int(rd.reserved.Val())
			s.Expired += int(rd.expired.Val())
		}
		if rd.ready.Val() == 0 {
			delete(r.heads, rd.key)
			continue
		}
		h := fnv.New64a()
		h.Write([]byte(rd.first.Val()))
		id := h.Sum64()
		if cur, ok := r.heads[rd.key]; !ok || cur.id != id {
			r.heads[rd.key] = head{id: id, since: now}
		}
		s.OldestWait = max(s.OldestWait, now.Sub(r.heads[rd.key].since))
	}
	return s, nil
}

// Key reads one Redis key (rolling_restart_watch).
type Key struct {
	src    config.QueueSource
	client *redis.Client
}

// OpenKey returns the reader of src's key. It connects lazily.
func OpenKey(src config.QueueSource) *Key { return &Key{src: src, client: newClient(src)} }

// Get returns the key's value, "" when it does not exist.
func (k *Key) Get(ctx context.Context) (string, error) {
	v, err := k.client.Get(ctx, k.src.Keys[0]).Result()
	if errors.Is(err, redis.Nil) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read key: %w", err)
	}
	return v, nil
}

// Close closes the connections.
func (k *Key) Close() error { return k.client.Close() }
