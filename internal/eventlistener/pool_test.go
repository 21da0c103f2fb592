package eventlistener

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/events"
	"github.com/drover/drover/internal/process"
)

// syncLog is a process.Logger for tests with concurrent writers.
type syncLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *syncLog) Logf(level config.LogLevel, format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf("%d ", level)+fmt.Sprintf(format, args...))
}

// take returns the lines at level or above logged since the last take.
func (l *syncLog) take(level config.LogLevel) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, s := range l.lines {
		var lv int
		var text string
		fmt.Sscanf(s, "%d ", &lv)
		_, text, _ = strings.Cut(s, " ")
		if config.LogLevel(lv) >= level {
			out = append(out, text)
		}
	}
	l.lines = nil
	return out
}

// fakeProc records what is written to a listener's stdin.
type fakeProc struct{ writes chan string }

func (f *fakeProc) WriteStdin(p []byte) error {
	f.writes <- string(p)
	return nil
}

// sent returns the headers of the events written so far.
func (f *fakeProc) sent() []string {
	var out []string
	for {
		select {
		case w := <-f.writes:
			header, _, _ := strings.Cut(w, "\n")
			out = append(out, header)
		default:
			return out
		}
	}
}

type harness struct {
	t      *testing.T
	bus    *events.Bus
	hub    *Hub
	log    *syncLog
	cancel context.CancelFunc
	done   chan struct{}
}

func newHarness(t *testing.T) *harness {
	h := &harness{t: t, bus: &events.Bus{}, log: &syncLog{}, done: make(chan struct{})}
	h.hub = NewHub(h.bus, h.log, "supervisor")
	h.hub.serials = &serialCounter{last: -1} // serials from 0 in every test
	var ctx context.Context
	ctx, h.cancel = context.WithCancel(context.Background())
	go func() { h.hub.Run(ctx); close(h.done) }()
	t.Cleanup(func() { h.cancel(); <-h.done })
	return h
}

// listener is one fake listener process of a pool.
type listener struct {
	h    *harness
	name string
	pool string
	proc *fakeProc
	out  process.SpawnWriter
	cur  process.ChildWriter
	log  bytes.Buffer
	pid  int
}

func (h *harness) pool(name string, bufferSize int, evs []string, procs ...string) (*Pool, []*listener) {
	g := &config.Group{Name: name, Kind: config.KindEventListener, Events: evs, BufferSize: bufferSize}
	for _, p := range procs {
		g.Processes = append(g.Processes, &config.Process{Name: p, Group: name})
	}
	p := h.hub.NewPool(g)
	h.hub.AddPool(p)
	var ls []*listener
	for _, pn := range procs {
		l := &listener{h: h, name: pn, pool: name, proc: &fakeProc{writes: make(chan string, 100)}}
		l.out = p.Stdout(pn, &l.log)
		p.Attach(pn, l.proc)
		ls = append(ls, l)
	}
	return p, ls
}

// start spawns a new child of the listener and makes it RUNNING.
func (l *listener) start() {
	l.pid += 100
	l.cur = l.out.ForSpawn()
	l.cur.Spawned(l.pid)
	l.state("STOPPED", "STARTING")
	l.state("STARTING", "RUNNING")
}

func (l *listener) state(from, to string) {
	pid := 0
	if to != "STARTING" && to != "BACKOFF" && to != "FATAL" {
		pid = l.pid
	}
	l.h.bus.Publish(events.ProcessState{Process: l.name, Group: l.pool, From: from, To: to, PID: pid})
	synctest.Wait()
}

func (l *listener) say(s string) {
	l.cur.Write([]byte(s))
	synctest.Wait()
}

func (h *harness) publish(es ...events.Event) {
	for _, e := range es {
		h.bus.Publish(e)
	}
	synctest.Wait()
}

func group(g string) events.Event { return events.ProcessGroupAdded{Group: g} }

func header(serial int, pool string, poolSerial int, name string, n int) string {
	return fmt.Sprintf("ver:3.0 server:supervisor serial:%d pool:%s poolserial:%d eventname:%s len:%d",
		serial, pool, poolSerial, name, n)
}

func expect(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s:\n got %q\nwant %q", what, got, want)
	}
}

func TestPoolProtocol(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		_, ls := h.pool("l", 10, []string{"PROCESS_GROUP"}, "l")
		l := ls[0]
		h.publish(group("a"), group("b"), group("c"))
		l.start()
		expect(t, "sent before READY", l.proc.sent(), nil)

		l.say("READY\n")
		expect(t, "sent after READY", l.proc.sent(), []string{header(0, "l", 0, "PROCESS_GROUP_ADDED", 12)})
		l.say("RESULT 2\nOK")
		expect(t, "sent while ACKNOWLEDGED", l.proc.sent(), nil)
		l.say("READY\n")
		expect(t, "second event", l.proc.sent(), []string{header(1, "l", 1, "PROCESS_GROUP_ADDED", 12)})

		// FAIL: the same event again, same serials.
		l.say("RESULT 4\nFAILREADY\n")
		expect(t, "after FAIL", l.proc.sent(), []string{header(1, "l", 1, "PROCESS_GROUP_ADDED", 12)})
		expect(t, "log after FAIL", h.log.take(config.LevelWarn), []string{"l: event was rejected"})
		l.say("RESULT 2\nOKREADY\n")
		expect(t, "third event", l.proc.sent(), []string{header(2, "l", 2, "PROCESS_GROUP_ADDED", 12)})
		if got := l.log.String(); got != "READY\nRESULT 2\nOKREADY\nRESULT 4\nFAILREADY\nRESULT 2\nOKREADY\n" {
			t.Errorf("stdout log %q", got)
		}

		// Garbage: UNKNOWN, and the event goes back to the buffer.
		l.say("oops\n")
		expect(t, "log after garbage", h.log.take(config.LevelWarn), []string{
			"l: bad result line: 'oops'",
			"l: has entered the UNKNOWN state and will no longer receive events, this usually indicates the process violated the eventlistener protocol",
		})
		h.publish(group("d"))
		expect(t, "sent while UNKNOWN", l.proc.sent(), nil)
		// A new child starts afresh and gets the re-queued event first.
		l.state("RUNNING", "EXITED")
		l.start()
		l.say("READY\n")
		expect(t, "after restart", l.proc.sent(), []string{header(2, "l", 2, "PROCESS_GROUP_ADDED", 12)})
	})
}

func TestPoolListenerDiesWhileBusy(t *testing.T) {
	tests := []struct {
		name string
		die  func(l *listener)
	}{
		{"exit event", func(l *listener) { l.state("RUNNING", "EXITED"); l.start() }},
		{"respawn before the exit event is seen", func(l *listener) {
			old := l.pid
			l.pid += 100
			l.cur = l.out.ForSpawn()
			l.cur.Spawned(l.pid)
			for _, e := range []events.ProcessState{
				{Process: l.name, Group: l.pool, From: "RUNNING", To: "EXITED", PID: old},
				{Process: l.name, Group: l.pool, From: "EXITED", To: "STARTING"},
				{Process: l.name, Group: l.pool, From: "STARTING", To: "RUNNING", PID: l.pid},
			} {
				l.h.bus.Publish(e)
			}
			synctest.Wait()
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := newHarness(t)
				_, ls := h.pool("l", 10, []string{"PROCESS_GROUP_ADDED"}, "l")
				l := ls[0]
				h.publish(group("a"), group("b"))
				l.start()
				l.say("READY\n")
				expect(t, "first", l.proc.sent(), []string{header(0, "l", 0, "PROCESS_GROUP_ADDED", 12)})
				tt.die(l)
				expect(t, "sent before READY", l.proc.sent(), nil)
				l.say("READY\n")
				expect(t, "after restart", l.proc.sent(), []string{header(0, "l", 0, "PROCESS_GROUP_ADDED", 12)})
				l.say("RESULT 2\nOKREADY\n")
				expect(t, "next", l.proc.sent(), []string{header(1, "l", 1, "PROCESS_GROUP_ADDED", 12)})
			})
		})
	}
}

func TestPoolOnlyRunningListeners(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		_, ls := h.pool("l", 10, []string{"REMOTE_COMMUNICATION"}, "l")
		l := ls[0]
		h.publish(events.RemoteCommunication{Type: "t", Data: "d"})
		l.pid = 7
		l.cur = l.out.ForSpawn()
		l.cur.Spawned(7)
		l.state("STOPPED", "STARTING")
		l.say("READY\n")
		expect(t, "sent while STARTING", l.proc.sent(), nil)
		l.state("STARTING", "RUNNING")
		expect(t, "sent once RUNNING", l.proc.sent(), []string{header(0, "l", 0, "REMOTE_COMMUNICATION", 8)})
	})
}

func TestPoolDispatchOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		_, ls := h.pool("l", 10, []string{"PROCESS_GROUP"}, "l_0", "l_1")
		h.publish(group("a"), group("b"), group("c"))
		for _, l := range ls {
			l.start()
		}
		ls[1].say("READY\n")
		ls[0].say("READY\n")
		expect(t, "l_1", ls[1].proc.sent(), []string{header(0, "l", 0, "PROCESS_GROUP_ADDED", 12)})
		expect(t, "l_0", ls[0].proc.sent(), []string{header(1, "l", 1, "PROCESS_GROUP_ADDED", 12)})
		// Both ready again: the first listener in the pool gets the next event.
		ls[1].say("RESULT 2\nOKREADY\n")
		expect(t, "l_1 again", ls[1].proc.sent(), []string{header(2, "l", 2, "PROCESS_GROUP_ADDED", 12)})
		h.publish(group("d"))
		ls[0].say("RESULT 2\nOKREADY\n")
		ls[1].say("RESULT 2\nOKREADY\n")
		expect(t, "l_0 gets d", ls[0].proc.sent(), []string{header(3, "l", 3, "PROCESS_GROUP_ADDED", 12)})
		expect(t, "l_1 idle", ls[1].proc.sent(), nil)
	})
}

func TestPoolOverflow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		_, ls := h.pool("l", 2, []string{"PROCESS_GROUP"}, "l")
		h.publish(group("a"), group("b"), group("c"))
		expect(t, "log", h.log.take(config.LevelError), []string{"pool l event buffer overflowed, discarding event 0"})
		l := ls[0]
		l.start()
		l.say("READY\n")
		expect(t, "oldest kept", l.proc.sent(), []string{header(1, "l", 1, "PROCESS_GROUP_ADDED", 12)})
		// A rejected event goes back at the head even into a full buffer,
		// pushing out the oldest.
		h.publish(group("d"), group("e"))
		expect(t, "log", h.log.take(config.LevelError), []string{"pool l event buffer overflowed, discarding event 2"})
		l.say("RESULT 4\nFAILREADY\n")
		expect(t, "log", h.log.take(config.LevelError), []string{"pool l event buffer overflowed, discarding event 3"})
		expect(t, "rejected first", l.proc.sent(), []string{header(1, "l", 1, "PROCESS_GROUP_ADDED", 12)})
		l.say("RESULT 2\nOKREADY\n")
		expect(t, "then the newest", l.proc.sent(), []string{header(4, "l", 4, "PROCESS_GROUP_ADDED", 12)})
	})
}

func TestHubSerials(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		_, as := h.pool("a", 10, []string{"PROCESS_GROUP_ADDED"}, "a")
		h.publish(group("x"), events.RemoteCommunication{Type: "nobody listens"})
		_, bs := h.pool("b", 10, []string{"EVENT"}, "b")
		h.publish(group("y"), events.ProcessGroupRemoved{Group: "y"})
		a, b := as[0], bs[0]
		a.start()
		b.start()
		a.say("READY\n")
		b.say("READY\n")
		// Serials: x=0; the remote event took none; y=1 in both pools; the
		// removal 2 in b only; then the listeners' own state changes (b
		// subscribes to EVENT).
		expect(t, "a", a.proc.sent(), []string{header(0, "a", 0, "PROCESS_GROUP_ADDED", 12)})
		expect(t, "b", b.proc.sent(), []string{header(1, "b", 0, "PROCESS_GROUP_ADDED", 12)})
		a.say("RESULT 2\nOKREADY\n")
		b.say("RESULT 2\nOKREADY\n")
		expect(t, "a", a.proc.sent(), []string{header(1, "a", 1, "PROCESS_GROUP_ADDED", 12)})
		expect(t, "b", b.proc.sent(), []string{header(2, "b", 1, "PROCESS_GROUP_REMOVED", 12)})
		b.say("RESULT 2\nOKREADY\n")
		expect(t, "b", b.proc.sent(), []string{header(3, "b", 2, "PROCESS_STATE_STARTING", 52)})
	})
}
