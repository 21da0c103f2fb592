package events

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestSubscriptionFiltersAndKeepsOrder(t *testing.T) {
	var b Bus
	states := b.Subscribe(Named("states"), Kinds("PROCESS_STATE"))
	defer states.Close()
	all := b.Subscribe(Named("all"))
	defer all.Close()
	b.Publish(ProcessState{Process: "a", To: "STARTING"})
	b.Publish(ProcessLog{Process: "a", Channel: "stdout", Data: []byte("hi")})
	b.Publish(ProcessState{Process: "a", To: "RUNNING"})
	if got := names(states.Next()); got != "PROCESS_STATE_STARTING PROCESS_STATE_RUNNING" {
		t.Errorf("filtered: %s", got)
	}
	if got := names(all.Next()); got != "PROCESS_STATE_STARTING PROCESS_LOG_STDOUT PROCESS_STATE_RUNNING" {
		t.Errorf("unfiltered: %s", got)
	}
	if evs := all.Next(); evs != nil {
		t.Errorf("second Next = %v, want nothing", evs)
	}
}

func names(evs []Event) string {
	var s []string
	for _, e := range evs {
		s = append(s, e.Name())
	}
	return strings.Join(s, " ")
}

// A full buffer loses its oldest events: the newest stay, in order, the
// loss is counted by subscriber name and logged once when it starts and
// once when the subscriber catches up.
func TestFullBufferDropsOldest(t *testing.T) {
	var mu sync.Mutex
	var warnings []string
	b := Bus{Warn: func(m string) { mu.Lock(); warnings = append(warnings, m); mu.Unlock() }}
	s := b.Subscribe(Named("slow"), Buffer(3))
	defer s.Close()
	for i := range 10 {
		b.Publish(RemoteCommunication{Type: fmt.Sprint(i)})
	}
	var got []string
	for _, e := range s.Next() {
		got = append(got, e.(RemoteCommunication).Type)
	}
	if strings.Join(got, ",") != "7,8,9" {
		t.Errorf("kept %v, want the newest 7,8,9", got)
	}
	if d := b.Dropped(); d["slow"] != 7 || len(d) != 1 {
		t.Errorf("Dropped = %v, want slow:7", d)
	}
	b.Publish(RemoteCommunication{Type: "10"}) // caught up: no new episode
	mu.Lock()
	defer mu.Unlock()
	if len(warnings) != 2 || !strings.Contains(warnings[0], "slow is too slow") || !strings.Contains(warnings[1], "after losing 7 events") {
		t.Errorf("warnings = %q, want one when losing starts and one on catching up", warnings)
	}
}

// A Latest subscriber keeps the newest event only, and what it replaces is
// neither counted nor reported: the dashboard and the fleet only need to
// know that something changed, and a start-up of many programs must not
// log them as too slow.
func TestLatestKeepsNewestWithoutLoss(t *testing.T) {
	var warnings []string
	b := Bus{Warn: func(m string) { warnings = append(warnings, m) }}
	s := b.Subscribe(Named("poked"), Latest())
	defer s.Close()
	for i := range 10 {
		b.Publish(RemoteCommunication{Type: fmt.Sprint(i)})
	}
	select {
	case <-s.Ready():
	default:
		t.Fatal("not ready after 10 events")
	}
	if got := s.Next(); len(got) != 1 || got[0].(RemoteCommunication).Type != "9" {
		t.Errorf("Next = %v, want the newest event only", got)
	}
	if d := b.Dropped(); len(d) != 0 {
		t.Errorf("Dropped = %v, want none", d)
	}
	if len(warnings) != 0 {
		t.Errorf("warnings = %q, want none", warnings)
	}
}

// A subscriber that never reads neither blocks the publisher nor makes
// memory grow: 100,000 events of 1 KiB (100 MiB if they were all kept)
// leave the heap within a few MiB, the loss counted, while a subscriber
// that filters for state changes receives every one of them.
func TestStuckSubscriberBoundsMemory(t *testing.T) {
	const events, every = 100_000, 1000
	var b Bus
	stuck := b.Subscribe(Named("stuck"))
	defer stuck.Close()
	states := b.Subscribe(Named("states"), Kinds("PROCESS_STATE"))
	defer states.Close()

	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	before := heap()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range events {
			if i%every == 0 {
				b.Publish(ProcessState{Process: "p", To: "RUNNING", PID: i})
				continue
			}
			b.Publish(ProcessLog{Process: "p", Channel: "stdout", Data: make([]byte, 1024)})
		}
	}()
	select {
	case <-done:
	case <-time.After(time.Minute): // a deadlock guard, not a speed limit
		t.Fatal("Publish blocked on a subscriber that never reads")
	}
	grown := int64(heap()) - int64(before)
	if grown > 16<<20 {
		t.Errorf("heap grew by %d MiB with a stuck subscriber; want it bounded by its buffer", grown>>20)
	}
	if got := len(states.Next()); got != events/every {
		t.Errorf("the state subscriber got %d state changes, want %d", got, events/every)
	}
	if d := b.Dropped()["stuck"]; d != events-DefaultBuffer {
		t.Errorf("dropped %d for the stuck subscriber, want %d", d, events-DefaultBuffer)
	}
	runtime.KeepAlive(stuck)
}
