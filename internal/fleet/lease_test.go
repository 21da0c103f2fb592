package fleet

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/drover/drover/internal/config"
)

// startRedis runs a throwaway redis-server on a free loopback port.
func startRedis(t *testing.T) int {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("redis-server not found")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command("redis-server", "--port", fmt.Sprint(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Close()
			return port
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server on port %d: %v", port, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// logLines is a Logger that keeps the lines.
type logLines struct {
	mu    sync.Mutex
	lines []string
}

func (l *logLines) Logf(_ config.LogLevel, format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
}

func (l *logLines) count(text string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, line := range l.lines {
		if strings.Contains(line, text) {
			n++
		}
	}
	return n
}

func TestLeasesAgainstRedis(t *testing.T) {
	port := startRedis(t)
	const beat = 100 * time.Millisecond // leases last 300 ms
	groups := []*config.Group{
		{Name: "worker", Processes: make([]*config.Process, 1), Scaling: &config.Scaling{FleetMax: 5}},
		{Name: "uncapped", Processes: make([]*config.Process, 1), Scaling: &config.Scaling{}},
	}
	node := func(name string, log *logLines) *Leases {
		cfg := &config.Fleet{RedisURL: fmt.Sprintf("redis://127.0.0.1:%d/0", port), NodeName: name,
			HeartbeatInterval: beat, KeyPrefix: "t:"}
		l, err := NewLeases(cfg, groups, log)
		if err != nil || l == nil {
			t.Fatalf("NewLeases: %v %v", l, err)
		}
		return l
	}
	logA := &logLines{}
	a, b, c := node("a", logA), node("b", &logLines{}), node("c", &logLines{})
	defer b.Stop()
	// Each node's numprocs (1) counts: 3 of 5 are taken before any grant.
	for _, l := range []*Leases{a, b, c} {
		l.sync(context.Background(), "worker", 0)
	}
	if got := a.Acquire("worker", 3); got != 2 {
		t.Errorf("a acquired %d of 3, want 2 (cap 5, 3 held)", got)
	}
	if got := b.Acquire("worker", 1); got != 0 {
		t.Errorf("b acquired %d at the cap", got)
	}
	if got := b.Acquire("uncapped", 7); got != 7 {
		t.Errorf("an uncapped group got %d of 7", got)
	}
	a.Release("worker", 1)
	if got := b.Acquire("worker", 2); got != 1 {
		t.Errorf("after a released one, b acquired %d, want 1", got)
	}
	if mine, total, limit, ok := a.Share("worker"); !ok || mine != 2 || limit != 5 || total < 4 {
		t.Errorf("a's share = %d of %d (cap %d, %v)", mine, total, limit, ok)
	}
	// c stops in order: its lease goes at once. a dies (no more
	// renewals, nothing given back): its share comes back once its lease
	// expires.
	c.Stop()
	if got := b.Acquire("worker", 1); got != 1 {
		t.Errorf("after c left, b acquired %d, want 1", got)
	}
	a.cancel()
	<-a.done
	a.rdb.Close()
	died := time.Now()
	var got int
	for got < 2 && time.Since(died) < 5*time.Second {
		got += b.Acquire("worker", 2-got)
		time.Sleep(20 * time.Millisecond)
	}
	if got != 2 {
		t.Errorf("a's share did not come back: b got %d of 2", got)
	}
	t.Logf("a's share came back %v after its last renewal (lease 300ms)", time.Since(died).Round(time.Millisecond))
	if mine, total, _, _ := b.Share("worker"); mine != 5 || total != 5 {
		t.Errorf("b's share = %d of %d, want all 5", mine, total)
	}
}

func TestLeasesRedisAway(t *testing.T) {
	log := &logLines{}
	cfg := &config.Fleet{RedisURL: "redis://127.0.0.1:1/0", NodeName: "a", HeartbeatInterval: 100 * time.Millisecond, KeyPrefix: "t:"}
	l, err := NewLeases(cfg, []*config.Group{{Name: "w", Processes: make([]*config.Process, 1),
		Scaling: &config.Scaling{FleetMax: 3}}}, log)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Stop()
	for range 3 {
		if got := l.Acquire("w", 1); got != 0 {
			t.Errorf("without Redis, Acquire granted %d", got)
		}
	}
	if n := log.count("leases unreachable"); n != 1 {
		t.Errorf("the loss was logged %d times, want once", n)
	}
}
