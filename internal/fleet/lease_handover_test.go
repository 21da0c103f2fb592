package fleet

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// An upgrade keeps this node's leases: held for the switch they outlast
// their usual life with no image renewing them, so no other node takes the
// share; the new image, told what the old one's scaler had acquired, renews
// the same entry with the same count (nothing doubled), and releases from it.
func TestLeasesAcrossAnUpgrade(t *testing.T) {
	port := startRedis(t)
	const beat = 100 * time.Millisecond // leases last 300 ms
	rdb, leased := workerLeases(t, port)
	ctx := context.Background()
	// The old image runs numprocs 1 and acquires 2 more of a cap of 4.
	old, _ := leasesOn(t, port, "a", beat, &logLines{}, Capped{Name: "worker", Max: 4, Base: 1, Live: 1})
	old.renew(ctx)
	if got := old.Acquire("worker", 2); got != 2 {
		t.Fatalf("acquired %d of 2", got)
	}
	other, _ := leasesOn(t, port, "b", beat, &logLines{}, Capped{Name: "worker", Max: 4, Base: 0, Live: 0})
	defer other.Stop()

	// The switch: renewals end (execve), the leases were held first.
	old.cancel()
	<-old.done
	old.HoldForHandover()
	old.rdb.Close()
	exp, err := rdb.ZScore(ctx, "t:lease-exp:{worker}", "a").Result()
	now, _ := rdb.Time(ctx).Result()
	if err != nil || time.UnixMilli(int64(exp)).Sub(now) < leaseHandoverHold-5*time.Second {
		t.Errorf("lease expiry %v after now, want about %v (err %v)", time.UnixMilli(int64(exp)).Sub(now), leaseHandoverHold, err)
	}
	time.Sleep(5 * beat) // beyond the usual 300 ms
	if got := other.Acquire("worker", 2); got != 1 {
		t.Errorf("during the switch b acquired %d, want 1 (a's 3 of 4 still held)", got)
	}
	if got := leased("a"); got != "3" {
		t.Errorf("a's lease during the switch: %q, want 3", got)
	}

	// The new image: a node of the same name, told the 2 acquired. Its
	// first renewal writes 3 even though it counts 1 process (its workers
	// are not adopted yet in this test).
	next, _ := leasesOn(t, port, "a", beat, &logLines{}, Capped{Name: "worker", Max: 4, Base: 1, Live: 1})
	defer next.Stop()
	next.TakeOver(map[string]int{"worker": 2})
	waitFor(t, "the new image renews a's lease", func() bool {
		exp, _ := rdb.ZScore(ctx, "t:lease-exp:{worker}", "a").Result()
		now, _ := rdb.Time(ctx).Result()
		return time.UnixMilli(int64(exp)).Sub(now) < time.Second
	})
	if got := leased("a"); got != "3" {
		t.Errorf("a's lease after the take-over: %q, want 3 (not lost, not doubled)", got)
	}
	if got := other.Acquire("worker", 1); got != 0 {
		t.Errorf("after the take-over b acquired %d at the cap", got)
	}
	next.Release("worker", 2)
	if got := leased("a"); got != "1" {
		t.Errorf("a's lease after releasing the 2: %q, want 1", got)
	}
}

// workerLeases returns a client of the Redis at port and what each node
// leases of group worker there ("" for no lease).
func workerLeases(t *testing.T, port int) (*redis.Client, func(node string) string) {
	rdb := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", port)})
	t.Cleanup(func() { rdb.Close() })
	return rdb, func(node string) string {
		return rdb.HGet(context.Background(), "t:lease:{worker}", node).Val()
	}
}

// An upgrade that did not happen resumes the leases: renewals, grants and
// releases go on.
func TestLeasesResumeAfterAFailedUpgrade(t *testing.T) {
	port := startRedis(t)
	l, _ := leasesOn(t, port, "a", 100*time.Millisecond, &logLines{}, Capped{Name: "worker", Max: 4, Base: 1, Live: 1})
	defer l.Stop()
	l.renew(context.Background())
	resume := l.HoldForHandover()
	resume()
	if got := l.Acquire("worker", 1); got != 1 {
		t.Errorf("after resume acquired %d of 1", got)
	}
}
