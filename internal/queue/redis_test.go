package queue

import (
	"context"
	"net"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/drover/drover/internal/config"
)

// startRedis runs a throwaway redis-server on a free loopback port.
func startRedis(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("redis-server not installed")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command("redis-server", "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", t.TempDir())
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	addr := "127.0.0.1:" + strconv.Itoa(port)
	c := redis.NewClient(&redis.Options{Addr: addr})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for c.Ping(context.Background()).Err() != nil {
		if time.Now().After(deadline) {
			t.Fatal("redis-server did not answer")
		}
		time.Sleep(20 * time.Millisecond)
	}
	return addr
}

func TestLaravelSample(t *testing.T) {
	addr := startRedis(t)
	ctx := context.Background()
	c := redis.NewClient(&redis.Options{Addr: addr})
	defer c.Close()
	now := time.Unix(1_800_000_000, 0)
	p := "laravel_database_"
	c.RPush(ctx, p+"queues:default", `{"uuid":"a"}`, `{"uuid":"b"}`, `{"uuid":"c"}`)
	c.RPush(ctx, p+"queues:emails", `{"uuid":"d"}`)
	c.ZAdd(ctx, p+"queues:default:delayed", redis.Z{Score: float64(now.Unix() - 5), Member: "due"},
		redis.Z{Score: float64(now.Unix() + 60), Member: "later"})
	c.ZAdd(ctx, p+"queues:emails:reserved", redis.Z{Score: float64(now.Unix() + 90), Member: "busy"},
		redis.Z{Score: float64(now.Unix() - 1), Member: "stale"})
	c.RPush(ctx, "other:queues:default", "x") // another prefix: not counted

	src := Open(config.QueueSource{Kind: config.QueueLaravelRedis, Addr: addr, Prefix: p, Keys: []string{"default", "emails"}})
	defer src.Close()
	s, err := src.Sample(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	want := Sample{Ready: 4, Due: 1, Delayed: 2, Reserved: 2, Expired: 1}
	if s != want {
		t.Fatalf("sample = %+v, want %+v", s, want)
	}
	// Same heads later: they have waited; a new head restarts the clock.
	if s, _ = src.Sample(ctx, now.Add(7*time.Second)); s.OldestWait != 7*time.Second {
		t.Errorf("OldestWait = %v, want 7s", s.OldestWait)
	}
	c.LPop(ctx, p+"queues:default")
	c.LPop(ctx, p+"queues:emails")
	if s, _ = src.Sample(ctx, now.Add(9*time.Second)); s.OldestWait != 0 || s.Ready != 2 {
		t.Errorf("after pops: %+v, want Ready 2 and OldestWait 0", s)
	}
}

func TestListSampleAndKey(t *testing.T) {
	addr := startRedis(t)
	ctx := context.Background()
	c := redis.NewClient(&redis.Options{Addr: addr, DB: 3})
	defer c.Close()
	c.RPush(ctx, "jobs", "1", "2")
	c.RPush(ctx, "more", "3")
	src := Open(config.QueueSource{Kind: config.QueueRedisList, Addr: addr, DB: 3, Keys: []string{"jobs", "more", "none"}})
	defer src.Close()
	s, err := src.Sample(ctx, time.Now())
	if err != nil || s.Ready != 3 || s.Reserved != 0 {
		t.Fatalf("sample = %+v, %v", s, err)
	}
	key := OpenKey(config.QueueSource{Kind: config.QueueRedisKey, Addr: addr, DB: 3, Keys: []string{"restart"}})
	defer key.Close()
	if v, err := key.Get(ctx); v != "" || err != nil {
		t.Errorf("missing key = %q, %v", v, err)
	}
	c.Set(ctx, "restart", "1732550000", 0)
	if v, err := key.Get(ctx); v != "1732550000" || err != nil {
		t.Errorf("key = %q, %v", v, err)
	}
}

func TestUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	src := Open(config.QueueSource{Kind: config.QueueRedisList, Addr: addr, Keys: []string{"k"}})
	defer src.Close()
	if _, err := src.Sample(context.Background(), time.Now()); err == nil {
		t.Fatal("sample of a closed port succeeded")
	}
}
