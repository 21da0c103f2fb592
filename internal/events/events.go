// Package events carries state changes from their owners (process runners,
// the supervisor) to whoever subscribes: start gates, the shutdown, event
// listener pools, and next the web UI and metrics. Publishing never blocks:
// each subscription has a bounded buffer and a filter of event types; a
// subscriber too slow to keep up loses its oldest events, and the loss is
// counted (Bus.Dropped) and logged once per episode.
package events

import (
	"fmt"
	"maps"
	"sync"
)

// Event is anything published on a Bus.
type Event interface {
	// Name is Supervisor's event type name, e.g. "PROCESS_STATE_RUNNING".
	Name() string
}

// ProcessState is published on every process state change.
type ProcessState struct {
	Process, Group string
	From, To       string // state names, e.g. "STARTING"
	Tries          int    // backoff count (STARTING, BACKOFF)
	PID            int    // RUNNING, STOPPING, STOPPED, EXITED
	Expected       bool   // EXITED
}

func (e ProcessState) Name() string { return "PROCESS_STATE_" + e.To }

// DefaultBuffer is the buffer of a subscription that sets none: enough for
// the bursts a reading subscriber sees between two wake-ups.
const DefaultBuffer = 1024

// Bus fans events out to subscribers. The zero Bus is ready to use.
type Bus struct {
	// Warn, when set before the first Subscribe, receives the line logged
	// when a subscriber starts losing events and when it catches up.
	Warn func(msg string)

	mu      sync.Mutex
	subs    map[*Subscription]struct{} // guarded by mu
	dropped map[string]uint64          // by subscriber name, guarded by mu
}

// Subscription receives the events published after Subscribe that pass its
// filter, in order, oldest lost first when its buffer is full.
type Subscription struct {
	bus    *Bus
	name   string
	kinds  []string // event types (IsA); nil for every event
	limit  int
	latest bool          // keep only the newest waiting event (Latest)
	ready  chan struct{} // has a value while events wait

	mu     sync.Mutex
	buf    []Event // ring of the waiting events, grown up to limit; guarded by mu
	head   int     // index of the oldest waiting event; guarded by mu
	n      int     // waiting events; guarded by mu
	lost   uint64  // events dropped since the subscriber last caught up; guarded by mu
	closed bool    // guarded by mu
}

// Option configures a subscription.
type Option func(*Subscription)

// Named names the subscriber in the drop count and the log; subscriptions
// of one name share their count. The default name is "unnamed".
func Named(name string) Option { return func(s *Subscription) { s.name = name } }

// Kinds keeps only the events of these Supervisor event types, as IsA
// matches them: "PROCESS_STATE" covers every PROCESS_STATE_*.
func Kinds(types ...string) Option { return func(s *Subscription) { s.kinds = types } }

// Buffer bounds the events waiting for the subscriber (at least 1).
func Buffer(n int) Option { return func(s *Subscription) { s.limit = max(n, 1) } }

// Latest keeps only the newest waiting event, for a subscriber that needs
// to know that something happened, not what (a view redrawn from a
// snapshot). An event it replaces is no loss to such a subscriber: it is
// neither counted in Dropped nor reported.
func Latest() Option { return func(s *Subscription) { s.latest, s.limit = true, 1 } }

// Subscribe starts a subscription; Close it when done.
func (b *Bus) Subscribe(opts ...Option) *Subscription {
	s := &Subscription{bus: b, name: "unnamed", limit: DefaultBuffer, ready: make(chan struct{}, 1)}
	for _, o := range opts {
		o(s)
	}
	b.mu.Lock()
	if b.subs == nil {
		b.subs = make(map[*Subscription]struct{})
	}
	b.subs[s] = struct{}{}
	b.mu.Unlock()
	return s
}

// Publish delivers e to every current subscriber whose filter it passes,
// without blocking: a full buffer loses its oldest event instead.
func (b *Bus) Publish(e Event) {
	if b == nil {
		return
	}
	name := e.Name()
	var started []string
	b.mu.Lock()
	for s := range b.subs {
		if !s.wants(name) {
			continue
		}
		if dropped, first := s.push(e); dropped {
			if b.dropped == nil {
				b.dropped = make(map[string]uint64)
			}
			b.dropped[s.name]++
			if first {
				started = append(started, s.name)
			}
		}
	}
	b.mu.Unlock()
	for _, n := range started {
		b.warn(fmt.Sprintf("events: subscriber %s is too slow, losing its oldest events", n))
	}
}

// Dropped returns the events each subscriber lost, by subscriber name, since
// the bus was made: counters that only grow, for metrics.
func (b *Bus) Dropped() map[string]uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return maps.Clone(b.dropped)
}

func (b *Bus) warn(msg string) {
	if b.Warn != nil {
		b.Warn(msg)
	}
}

func (s *Subscription) wants(name string) bool {
	if s.kinds == nil {
		return true
	}
	for _, k := range s.kinds {
		if IsA(name, k) {
			return true
		}
	}
	return false
}

// push appends e, dropping the oldest waiting event when the buffer is
// full (a loss unless latest); first is true for the first loss since the
// subscriber caught up.
func (s *Subscription) push(e Event) (dropped, first bool) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return false, false
	}
	if s.n == s.limit {
		s.buf[s.head] = nil
		s.head = (s.head + 1) % len(s.buf)
		s.n--
		if !s.latest {
			s.lost++
			dropped, first = true, s.lost == 1
		}
	}
	if s.n == len(s.buf) {
		grown := make([]Event, min(max(2*len(s.buf), 16), s.limit))
		s.copyOut(grown)
		s.buf, s.head = grown, 0
	}
	s.buf[(s.head+s.n)%len(s.buf)] = e
	s.n++
	s.mu.Unlock()
	select {
	case s.ready <- struct{}{}:
	default:
	}
	return dropped, first
}

// copyOut copies the waiting events, oldest first, to dst.
func (s *Subscription) copyOut(dst []Event) {
	k := copy(dst, s.buf[s.head:min(s.head+s.n, len(s.buf))])
	copy(dst[k:s.n], s.buf)
}

// Ready is signalled when events may be waiting; call Next to take them.
func (s *Subscription) Ready() <-chan struct{} { return s.ready }

// Next returns the waiting events, oldest first, and empties the buffer.
func (s *Subscription) Next() []Event {
	s.mu.Lock()
	var out []Event
	if s.n > 0 {
		out = make([]Event, s.n)
		s.copyOut(out)
	}
	clear(s.buf)
	s.head, s.n = 0, 0
	lost := s.lost
	s.lost = 0
	s.mu.Unlock()
	if lost > 0 {
		s.bus.warn(fmt.Sprintf("events: subscriber %s caught up after losing %d events", s.name, lost))
	}
	return out
}

// Close ends the subscription.
func (s *Subscription) Close() {
	s.bus.mu.Lock()
	delete(s.bus.subs, s)
	s.bus.mu.Unlock()
	s.mu.Lock()
	s.closed = true
	s.buf, s.head, s.n = nil, 0, 0
	s.mu.Unlock()
}
