package fleet

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"slices"
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

// leasesOn returns the leases of node name on the Redis at port, following
// groups (fixed unless the test changes them through set).
func leasesOn(t *testing.T, port int, name string, beat time.Duration, log Logger, groups ...Capped) (*Leases, func([]Capped)) {
	t.Helper()
	cfg := &config.Fleet{RedisURL: fmt.Sprintf("redis://127.0.0.1:%d/0", port), NodeName: name,
		HeartbeatInterval: beat, KeyPrefix: "t:"}
	l, err := NewLeases(cfg, log)
	if err != nil {
		t.Fatalf("NewLeases: %v", err)
	}
	var mu sync.Mutex
	now := groups
	l.Follow(func() []Capped { mu.Lock(); defer mu.Unlock(); return slices.Clone(now) }, beat)
	return l, func(gs []Capped) { mu.Lock(); now = gs; mu.Unlock() }
}

func TestLeasesAgainstRedis(t *testing.T) {
	port := startRedis(t)
	const beat = 100 * time.Millisecond // leases last 300 ms
	// Each node runs numprocs 1 of worker, capped at 5; uncapped has no
	// fleet_max, so it is not among the capped groups.
	worker := Capped{Name: "worker", Max: 5, Base: 1, Live: 1}
	node := func(name string, log *logLines) *Leases {
		l, _ := leasesOn(t, port, name, beat, log, worker)
		return l
	}
	logA := &logLines{}
	a, b, c := node("a", logA), node("b", &logLines{}), node("c", &logLines{})
	defer b.Stop()
	// Each node's numprocs (1) counts: 3 of 5 are taken before any grant.
	for _, l := range []*Leases{a, b, c} {
		l.renew(context.Background())
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
	l, err := NewLeases(cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	l.Follow(func() []Capped { return []Capped{{Name: "w", Max: 3, Base: 1, Live: 1}} }, cfg.HeartbeatInterval)
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

// TestLeasesFollowTheNode: the count written is what the node runs, not
// only what it was granted (a reload keeping unchanged programs may leave
// more workers than numprocs, or raise numprocs); a changed fleet_max is
// followed, and a group no longer capped gives its lease back.
func TestLeasesFollowTheNode(t *testing.T) {
	port := startRedis(t)
	const beat = 100 * time.Millisecond
	_, leased := workerLeases(t, port)
	a, setA := leasesOn(t, port, "a", beat, &logLines{}, Capped{Name: "worker", Max: 6, Base: 1, Live: 1})
	defer a.Stop()
	b, _ := leasesOn(t, port, "b", beat, &logLines{}, Capped{Name: "worker", Max: 6, Base: 1, Live: 1})
	defer b.Stop()
	waitFor(t, "a leases 1", func() bool { return leased("a") == "1" })
	// A reload kept 3 workers beyond numprocs and raised numprocs to 2:
	// the next renewal counts the 4 running, with no scaler asking.
	setA([]Capped{{Name: "worker", Max: 6, Base: 2, Live: 4}})
	waitFor(t, "a leases the 4 it runs", func() bool { return leased("a") == "4" })
	if got := b.Acquire("worker", 3); got != 1 {
		t.Errorf("b acquired %d of 3 beside a's 4 (cap 6), want 1", got)
	}
	if mine, total, limit, ok := a.Share("worker"); !ok || mine != 4 || limit != 6 || total < 4 {
		t.Errorf("a's share = %d of %d (cap %d, %v)", mine, total, limit, ok)
	}
	// fleet_max lowered to 4: nothing more for b.
	setA([]Capped{{Name: "worker", Max: 4, Base: 2, Live: 4}})
	waitFor(t, "a sees the new cap", func() bool { _, _, limit, _ := a.Share("worker"); return limit == 4 })
	// The group is no longer capped on a: its lease goes.
	setA(nil)
	waitFor(t, "a's lease given back", func() bool { return leased("a") == "" })
	if _, _, _, ok := a.Share("worker"); ok {
		t.Errorf("a still shows a share of a group no longer capped")
	}
	if got := a.Acquire("worker", 7); got != 7 {
		t.Errorf("an uncapped group got %d of 7", got)
	}
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
