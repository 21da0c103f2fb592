package eventlistener

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/events"
)

// handOver holds h's pools, hands them over and returns the state as the
// new image decodes it from JSON.
func handOver(t *testing.T, h *harness) Handed {
	t.Helper()
	if err := h.hub.Hold(); err != nil {
		t.Fatal(err)
	}
	st := h.hub.HandOver()
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	var got Handed
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	return got
}

// adopt makes the listener of a new image take over the child pid, as a
// runner adopting it does: no state event, ForSpawn then Spawned.
func (l *listener) adopt(pid int) {
	l.pid = pid
	l.cur = l.out.ForSpawn()
	l.cur.Spawned(pid)
	synctest.Wait()
}

// Across an upgrade a BUSY listener's RESULT, read in part before the
// switch, answers the event it was busy with in the new image; a listener
// that became READY while the pools were held gets the next event once
// taken over; the buffer and both serials go on with no gap or repeat.
func TestHandOverListenerState(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		old := newHarness(t)
		_, ls := old.pool("l", 10, []string{"PROCESS_GROUP"}, "busy", "ready")
		busy, ready := ls[0], ls[1]
		old.publish(group("a"), group("b"), group("c"))
		busy.start()
		ready.start()
		busy.say("READY\n")
		expect(t, "busy's event", busy.proc.sent(), []string{header(0, "l", 0, "PROCESS_GROUP_ADDED", 12)})
		busy.say("RESULT 2\nO") // the rest comes after the switch
		if err := old.hub.Hold(); err != nil {
			t.Fatal(err)
		}
		ready.say("READY\n")
		old.publish(group("d"))
		expect(t, "sent while held", ready.proc.sent(), nil)
		st := old.hub.HandOver()
		b, _ := json.Marshal(st)
		st = Handed{}
		if err := json.Unmarshal(b, &st); err != nil {
			t.Fatal(err)
		}
		if st.Serial != 3 || len(st.Pools) != 1 || st.Pools[0].Serial != 3 || len(st.Pools[0].Buffer) != 3 {
			t.Fatalf("handed over %s", b)
		}

		h := newHarness(t)
		h.hub.TakeOver(st)
		_, nls := h.pool("l", 10, []string{"PROCESS_GROUP"}, "busy", "ready")
		h.hub.EndTakeOver()
		nbusy, nready := nls[0], nls[1]
		nready.adopt(ready.pid)
		expect(t, "ready, taken over", nready.proc.sent(), []string{header(1, "l", 1, "PROCESS_GROUP_ADDED", 12)})
		nbusy.adopt(busy.pid)
		expect(t, "busy, taken over", nbusy.proc.sent(), nil)
		nbusy.say("K")
		expect(t, "log", h.log.take(config.LevelWarn), nil) // no protocol error: the RESULT was expected
		nbusy.say("READY\n")
		expect(t, "busy, after its RESULT", nbusy.proc.sent(), []string{header(2, "l", 2, "PROCESS_GROUP_ADDED", 12)})
		h.publish(group("e"))
		nready.say("RESULT 2\nOKREADY\n")
		expect(t, "ready", nready.proc.sent(), []string{header(3, "l", 3, "PROCESS_GROUP_ADDED", 12)})
		nbusy.say("RESULT 2\nOKREADY\n")
		expect(t, "a new event, numbered on", nbusy.proc.sent(), []string{header(4, "l", 4, "PROCESS_GROUP_ADDED", 12)})
	})
}

// A listener session handed over for a child that is gone (the runner
// takes over another pid) starts afresh and gives its event back.
func TestHandOverSessionOfAnotherChild(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		old := newHarness(t)
		_, ls := old.pool("l", 10, []string{"PROCESS_GROUP"}, "l")
		old.publish(group("a"))
		ls[0].start()
		ls[0].say("READY\n")
		st := handOver(t, old)

		h := newHarness(t)
		h.hub.TakeOver(st)
		_, nls := h.pool("l", 10, []string{"PROCESS_GROUP"}, "l")
		nls[0].adopt(ls[0].pid + 1)
		expect(t, "before READY", nls[0].proc.sent(), nil)
		nls[0].say("READY\n")
		expect(t, "the event again", nls[0].proc.sent(), []string{header(0, "l", 0, "PROCESS_GROUP_ADDED", 12)})
	})
}

// Held, then released (the upgrade did not happen): nothing was sent
// meanwhile; what came in, an event published after the hand-over
// included (Late refuses it), is delivered in order.
func TestHoldRelease(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		_, ls := h.pool("l", 10, []string{"PROCESS_GROUP"}, "l")
		l := ls[0]
		l.start()
		if err := h.hub.Hold(); err != nil {
			t.Fatal(err)
		}
		h.publish(group("a"))
		l.say("READY\n")
		h.hub.HandOver()
		if err := h.hub.Late(); err != nil {
			t.Errorf("Late with nothing published: %v", err)
		}
		h.publish(group("b"), events.ProcessGroupRemoved{Group: "c"})
		err := h.hub.Late()
		if err == nil || !strings.Contains(err.Error(), "2 event(s) for the event listeners were published during the switch") {
			t.Errorf("Late: %v", err)
		}
		expect(t, "sent while held", l.proc.sent(), nil)
		h.hub.Release()
		synctest.Wait()
		expect(t, "after release", l.proc.sent(), []string{header(0, "l", 0, "PROCESS_GROUP_ADDED", 12)})
		l.say("RESULT 2\nOKREADY\n")
		expect(t, "next", l.proc.sent(), []string{header(1, "l", 1, "PROCESS_GROUP_ADDED", 12)})
		l.say("RESULT 2\nOKREADY\n")
		expect(t, "last", l.proc.sent(), []string{header(2, "l", 2, "PROCESS_GROUP_REMOVED", 12)})
	})
}

// Hold waits for the event writes under way, within a bound: one that does
// not end refuses the hold, and undoes it.
func TestHoldWaitsForWrites(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		_, ls := h.pool("l", 10, []string{"PROCESS_GROUP"}, "l")
		l := ls[0]
		l.proc.writes = make(chan string) // unbuffered: the write waits for a reader
		l.start()
		l.say("READY\n")
		h.publish(group("a"))
		err := h.hub.Hold()
		if err == nil || !strings.Contains(err.Error(), "did not get there") {
			t.Fatalf("Hold with a stuck write: %v", err)
		}
		<-l.proc.writes
		synctest.Wait()
		if err := h.hub.Hold(); err != nil {
			t.Fatalf("Hold once the write ended: %v", err)
		}
		h.hub.Release()
	})
}

// A pool handed over but not created again (the checks refuse that) has
// its events' loss logged, not lost in silence.
func TestEndTakeOverLogsLostEvents(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		old := newHarness(t)
		old.pool("gone", 10, []string{"PROCESS_GROUP"}, "l")
		old.publish(group("a"), group("b"))
		st := handOver(t, old)
		h := newHarness(t)
		h.hub.TakeOver(st)
		h.hub.EndTakeOver()
		expect(t, "log", h.log.take(config.LevelError), []string{"event listener pool gone was handed over but is not configured: 2 event(s) lost"})
	})
}

// The TICK clock handed over publishes, once, a boundary the switch crossed.
func TestTickerTakenOver(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		time.Sleep(3600*time.Second + 2*time.Second) // 2 s into a 5 s period
		now := time.Now().Unix()
		bus := &events.Bus{}
		sub := bus.Subscribe()
		h := NewHub(bus, nil, "supervisor")
		h.TakeOver(Handed{Serial: -1, Ticks: []int64{now - now%5 - 5, now - now%60, now - now%3600}})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { h.ticks.run(ctx, bus); close(done) }()
		synctest.Wait()
		expect(t, "at the take-over", drain(sub), []string{"TICK_5 when:" + itoa(now-now%5)})
		time.Sleep(5 * time.Second)
		synctest.Wait()
		expect(t, "next", drain(sub), []string{"TICK_5 when:" + itoa(now-now%5+5)})
		cancel()
		<-done
	})
}

// A buffer handed over to a pool whose buffer_size shrank drops its oldest
// events as a full buffer does, saying so.
func TestTakeOverIntoSmallerBuffer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		old := newHarness(t)
		old.pool("l", 10, []string{"PROCESS_GROUP"}, "l")
		old.publish(group("a"), group("b"), group("c"))
		st := handOver(t, old)
		h := newHarness(t)
		h.hub.TakeOver(st)
		_, ls := h.pool("l", 2, []string{"PROCESS_GROUP"}, "l")
		expect(t, "log", h.log.take(config.LevelError), []string{"pool l event buffer overflowed, discarding event 0"})
		ls[0].start()
		ls[0].say("READY\n")
		expect(t, "oldest kept", ls[0].proc.sent(), []string{header(1, "l", 1, "PROCESS_GROUP_ADDED", 12)})
	})
}
