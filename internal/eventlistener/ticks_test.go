package eventlistener

import (
	"context"
	"slices"
	"strconv"
	"testing"
	"testing/synctest"
	"time"

	"github.com/drover/drover/internal/events"
)

func TestTicker(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// The bubble's clock starts at 2000-01-01 00:00:00 UTC, a boundary of
		// every period; start 2.5 s into a 5 s period, 57.5 s before an hour.
		time.Sleep(3600*time.Second - 57500*time.Millisecond)
		start := time.Now().Unix()
		bus := &events.Bus{}
		sub := bus.Subscribe()
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { newTicker().run(ctx, bus); close(done) }()

		synctest.Wait()
		if got := drain(sub); len(got) != 0 {
			t.Fatalf("ticks at startup: %q", got)
		}
		time.Sleep(2 * time.Second) // 0.5 s before the boundary
		synctest.Wait()
		if got := drain(sub); len(got) != 0 {
			t.Fatalf("ticks before the boundary: %q", got)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		b := start - start%5 + 5
		if got, want := drain(sub), []string{"TICK_5 when:" + itoa(b)}; !slices.Equal(got, want) {
			t.Fatalf("after the boundary got %q, want %q", got, want)
		}
		time.Sleep(55 * time.Second) // past the hour
		synctest.Wait()
		hour := b + 55
		var want []string
		for w := b + 5; w < hour; w += 5 {
			want = append(want, "TICK_5 when:"+itoa(w))
		}
		want = append(want, "TICK_5 when:"+itoa(hour), "TICK_60 when:"+itoa(hour), "TICK_3600 when:"+itoa(hour))
		if got := drain(sub); !slices.Equal(got, want) {
			t.Fatalf("up to the hour got %q, want %q", got, want)
		}
		cancel()
		<-done
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
