package eventlistener

import (
	"context"
	"io"
	"math"
	"slices"
	"sync"

	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/events"
	"github.com/drover/drover/internal/guard"
	"github.com/drover/drover/internal/process"
	"github.com/drover/drover/internal/pyrepr"
)

// Hub takes the events off the bus, numbers them and hands each to every
// pool subscribed to its type. Pools receive the events published after
// they were added, as Supervisor's pools subscribe when created.
type Hub struct {
	bus        *events.Bus
	sub        *events.Subscription
	log        process.Logger
	identifier string

	serials *serialCounter // the global serial
	ticks   *ticker

	mu    sync.Mutex
	pools []*Pool // in order of creation; guarded by mu
	// An upgrade's state (handover.go), guarded by mu: the pools handed
	// over and not created yet, whether the pools are held, whether the
	// events are left to the next image (frozen), and those that came since.
	handed map[string]HandedPool
	held   bool
	frozen bool
	late   []events.Event
}

// serialCounter numbers events. Supervisor's global serial lives as long as
// the supervisord process, across reloads, so Drover's is process-wide too.
type serialCounter struct {
	mu   sync.Mutex
	last int64 // -1 before the first
}

var globalSerial = serialCounter{last: -1}

func (c *serialCounter) next() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return nextSerial(&c.last)
}

// NewHub subscribes to bus at once: events published from now on are
// numbered and buffered in the pools. identifier is supervisord's, for the
// header's server token.
func NewHub(bus *events.Bus, log process.Logger, identifier string) *Hub {
	return &Hub{bus: bus, sub: bus.Subscribe(events.Named("eventlisteners"), events.Buffer(hubBuffer)),
		log: log, identifier: identifier, serials: &globalSerial, ticks: newTicker()}
}

// hubBuffer bounds the events waiting for the hub, which only moves them
// into the pools' buffers (where Supervisor's buffer_size and its dropping
// of the oldest apply) and so keeps up: it is large enough that the bus
// never drops for listeners in practice, bounded so memory stays bounded.
const hubBuffer = 16384

// Run delivers the events to the pools and publishes the TICK events until
// ctx is done.
func (h *Hub) Run(ctx context.Context) {
	defer h.sub.Close()
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() { h.ticks.run(ctx, h.bus) })
	for {
		select {
		case <-ctx.Done():
			return
		case <-h.sub.Ready():
			h.mu.Lock()
			h.deliverLocked()
			h.mu.Unlock()
		}
	}
}

// NewPool creates the pool of an [eventlistener:x] group, from where the
// previous image left it if an upgrade handed it over (TakeOver). It
// receives events once added (AddPool).
func (h *Hub) NewPool(g *config.Group) *Pool {
	p := &Pool{hub: h, cfg: g, serial: -1}
	for _, pc := range g.Processes {
		p.listeners = append(p.listeners, &Listener{pool: p, name: pc.Name, state: "STOPPED"})
	}
	h.mu.Lock()
	hp, ok := h.handed[g.Name]
	delete(h.handed, g.Name)
	h.mu.Unlock()
	if ok {
		p.takeOver(hp)
	}
	return p
}

// AddPool makes p receive the events published from now on, as a Supervisor
// pool subscribes when its group is added: call it just before publishing
// the group's PROCESS_GROUP_ADDED.
func (h *Hub) AddPool(p *Pool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.deliverLocked() // what was published before belongs to the pools before
	h.pools = append(h.pools, p)
}

// RemovePool drops p and its buffered events: call it just before
// publishing the group's PROCESS_GROUP_REMOVED, which p does not receive.
func (h *Hub) RemovePool(p *Pool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.deliverLocked()
	h.pools = slices.DeleteFunc(h.pools, func(q *Pool) bool { return q == p })
	p.mu.Lock()
	p.removed, p.buffer = true, nil
	p.mu.Unlock()
}

func (h *Hub) deliverLocked() {
	if h.frozen {
		return
	}
	for _, e := range h.sub.Next() {
		h.deliver(e)
	}
}

// deliver buffers e in the pools subscribed to it. The global serial is
// taken by the first pool that accepts the event: events nobody listens to
// use none.
func (h *Hub) deliver(e events.Event) {
	if payload, ok := Payload(e); ok {
		name := e.Name()
		serial := int64(-1)
		for _, p := range h.pools {
			if !p.subscribes(name) {
				continue
			}
			if serial < 0 {
				serial = h.serials.next()
			}
			p.accept(name, payload, serial)
		}
	}
	if ps, ok := e.(events.ProcessState); ok {
		for _, p := range h.pools {
			if p.cfg.Name == ps.Group {
				p.processState(ps)
			}
		}
	}
}

// nextSerial advances a serial counter, wrapping at Python's maxint as Supervisor does.
func nextSerial(s *int64) int64 {
	if *s == math.MaxInt64 {
		*s = -1
	}
	*s++
	return *s
}

func (h *Hub) logf(level config.LogLevel, format string, args ...any) {
	if h.log != nil {
		h.log.Logf(level, format, args...)
	}
}

// Pool is one [eventlistener:x] group: a FIFO buffer of events and the
// listener processes they are dispatched to, oldest event first, each to the
// first listener that is RUNNING and READY.
type Pool struct {
	hub *Hub
	cfg *config.Group

	mu        sync.Mutex
	serial    int64       // the last pool serial given; guarded by mu
	buffer    []*queued   // guarded by mu
	listeners []*Listener // in the group's process order; their fields are guarded by mu
	removed   bool        // guarded by mu
	held      bool        // no dispatch during an upgrade's freeze; guarded by mu
}

// queued is an event in a pool's buffer; it keeps its serials when re-queued.
type queued struct {
	name, payload      string
	serial, poolSerial int64
}

// Listener is one process of a pool, as the pool sees it.
type Listener struct {
	pool  *Pool
	name  string
	sink  io.Writer // the stdout log: the protocol traffic is logged verbatim
	proc  Process   // nil until Attach
	state string    // process state, from the PROCESS_STATE events
	cur   *session  // the current child's protocol state; nil before the first spawn
	// adopting is the session of the child an upgrade handed over, until
	// the runner taking that child over asks for it (ForSpawn).
	adopting *session
}

// Process is what a pool needs of a listener's runner.
type Process interface {
	WriteStdin(p []byte) error
}

func (p *Pool) subscribes(name string) bool {
	return slices.ContainsFunc(p.cfg.Events, func(typ string) bool { return events.IsA(name, typ) })
}

func (p *Pool) listener(name string) *Listener {
	for _, l := range p.listeners {
		if l.name == name {
			return l
		}
	}
	return nil
}

// Stdout returns the writer to give the runner of listener process name as
// its Stdout; the listener's output goes on to sink (its stdout log). It
// returns nil for a process not in the pool.
func (p *Pool) Stdout(name string, sink io.Writer) process.SpawnWriter {
	l := p.listener(name)
	if l == nil {
		return nil
	}
	p.mu.Lock()
	l.sink = sink
	p.mu.Unlock()
	return l
}

// Attach gives the pool the runner of listener process name, to write events to.
func (p *Pool) Attach(name string, proc Process) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if l := p.listener(name); l != nil {
		l.proc = proc
	}
}

// accept buffers a new event.
func (p *Pool) accept(name, payload string, serial int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.removed {
		return
	}
	p.bufferLocked(&queued{name: name, payload: payload, serial: serial, poolSerial: nextSerial(&p.serial)}, false)
	p.dispatchLocked()
}

// requeueLocked puts back an event a listener did not process.
func (p *Pool) requeueLocked(q *queued) {
	if p.removed {
		return
	}
	p.hub.logf(config.LevelDebug, "rebuffering event %d for pool %s (buf size=%d, max=%d)",
		q.serial, p.cfg.Name, len(p.buffer), p.cfg.BufferSize)
	p.bufferLocked(q, true)
}

// bufferLocked adds q at the tail (or head), first dropping the oldest
// event if the buffer is full.
func (p *Pool) bufferLocked(q *queued, head bool) {
	if len(p.buffer) >= p.cfg.BufferSize && len(p.buffer) > 0 {
		p.hub.logf(config.LevelError, "pool %s event buffer overflowed, discarding event %d", p.cfg.Name, p.buffer[0].serial)
		p.buffer = slices.Delete(p.buffer, 0, 1)
	}
	if head {
		p.buffer = slices.Insert(p.buffer, 0, q)
	} else {
		p.buffer = append(p.buffer, q)
	}
}

// dispatchLocked sends buffered events, oldest first, to ready listeners.
func (p *Pool) dispatchLocked() {
	for len(p.buffer) > 0 && !p.removed && !p.held {
		i := slices.IndexFunc(p.listeners, func(l *Listener) bool {
			return l.state == "RUNNING" && l.proc != nil && l.cur != nil && l.cur.spawned && !l.cur.dead && l.cur.proto.state == Ready
		})
		if i < 0 {
			return
		}
		l, q := p.listeners[i], p.buffer[0]
		p.buffer = p.buffer[1:]
		l.cur.send(q, Envelope(p.hub.identifier, q.serial, p.cfg.Name, q.poolSerial, q.name, q.payload))
		p.hub.logf(config.LevelDebug, "event %d sent to listener %s", q.serial, l.name)
	}
}

// processState follows a listener's process state: a child that is gone
// gives back the event it was busy with.
func (p *Pool) processState(e events.ProcessState) {
	p.mu.Lock()
	defer p.mu.Unlock()
	l := p.listener(e.Process)
	if l == nil {
		return
	}
	l.state = e.To
	// A new child may already have replaced the one that exited: the pid tells.
	if s := l.cur; s != nil && (e.To == "BACKOFF" || (e.To == "EXITED" || e.To == "STOPPED") && e.PID == s.pid) {
		s.retireLocked()
	}
	p.dispatchLocked()
}

// Write logs output not tied to a child (the runner gives each child its
// own writer, see ForSpawn).
func (l *Listener) Write(b []byte) (int, error) {
	l.pool.mu.Lock()
	sink := l.sink
	l.pool.mu.Unlock()
	if sink == nil {
		return len(b), nil
	}
	return sink.Write(b)
}

// ForSpawn starts the protocol afresh for a new child (ACKNOWLEDGED, awaiting
// READY); an event the previous child was busy with goes back to the pool.
// The child an upgrade handed over goes on with its session instead.
func (l *Listener) ForSpawn() process.ChildWriter {
	p := l.pool
	p.mu.Lock()
	defer p.mu.Unlock()
	if l.cur != nil {
		l.cur.retireLocked()
	}
	l.cur, l.adopting = l.adopting, nil
	if l.cur == nil {
		l.cur = &session{l: l, proto: newProtocol(l.name)}
	}
	return l.cur
}

// session is the protocol state of one listener child.
type session struct {
	l         *Listener
	proto     protocol
	pid       int           // the child's, once known (handed over: before Spawned)
	spawned   bool          // Spawned was called: the child's stdin takes events
	event     *queued       // the event sent and not yet answered (BUSY)
	dead      bool          // the child is gone
	lastWrite chan struct{} // closed when the last event write has ended
}

// Spawned makes the session's child, pid, eligible for events: the runner
// offers its stdin before it calls Spawned.
func (s *session) Spawned(pid int) {
	p := s.l.pool
	p.mu.Lock()
	defer p.mu.Unlock()
	if s.pid != 0 && s.pid != pid {
		// Handed over for a child that is gone: this one starts afresh.
		if s.event != nil {
			p.requeueLocked(s.event)
			s.event = nil
		}
		s.proto = newProtocol(s.l.name)
	}
	s.pid, s.spawned = pid, true
	p.dispatchLocked()
}

// Write logs the listener's output and runs the protocol on it.
func (s *session) Write(b []byte) (int, error) {
	l, p := s.l, s.l.pool
	p.hub.logf(config.LevelDebug, "%s stdout output:\n%s", pyrepr.Str(l.name), pyrepr.Bytes(b))
	p.mu.Lock()
	defer p.mu.Unlock()
	if l.sink != nil {
		_, _ = l.sink.Write(b)
	}
	if s.dead || p.removed {
		return len(b), nil
	}
	for _, e := range s.proto.feed(b) {
		if e.requeue {
			if s.event != nil {
				p.requeueLocked(s.event)
				s.event = nil
			}
			continue
		}
		p.hub.logf(e.level, "%s", e.text)
	}
	if s.proto.state != Busy {
		s.event = nil
	}
	p.dispatchLocked()
	return len(b), nil
}

// send writes an event to the child: READY → BUSY. The write happens in the
// background, after the previous one: a listener that does not read its
// stdin blocks only itself.
func (s *session) send(q *queued, envelope []byte) {
	s.proto.send()
	s.event = q
	proc, prev, done := s.l.proc, s.lastWrite, make(chan struct{})
	s.lastWrite = done
	p, serial, name := s.l.pool, q.serial, s.l.name
	guard.Go("event listener "+name+": send", func() {
		defer close(done)
		if prev != nil {
			<-prev
		}
		if err := proc.WriteStdin(envelope); err != nil {
			// The event stays with the listener until its child is gone.
			p.hub.logf(config.LevelDebug, "error sending event %d to listener %s: %v", serial, name, err)
		}
	})
}

// retireLocked ends the session of a child that is gone.
func (s *session) retireLocked() {
	if s.dead {
		return
	}
	s.dead = true
	if s.event != nil {
		s.l.pool.requeueLocked(s.event)
		s.event = nil
	}
}
