// Package events carries state changes from their owners (process runners,
// the supervisor) to whoever subscribes: logs, RPC waiters, event listeners,
// the web UI and metrics. Publishing never blocks and never drops: each
// subscription has its own unbounded queue.
package events

import "sync"

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

// Bus fans events out to subscribers.
type Bus struct {
	mu   sync.Mutex
	subs map[*Subscription]struct{} // guarded by mu
}

// Subscription receives every event published after Subscribe, in order.
type Subscription struct {
	bus    *Bus
	mu     sync.Mutex
	queue  []Event       // guarded by mu
	ready  chan struct{} // has a value while queue is non-empty
	closed bool          // guarded by mu
}

// Subscribe starts a subscription; Close it when done.
func (b *Bus) Subscribe() *Subscription {
	s := &Subscription{bus: b, ready: make(chan struct{}, 1)}
	b.mu.Lock()
	if b.subs == nil {
		b.subs = make(map[*Subscription]struct{})
	}
	b.subs[s] = struct{}{}
	b.mu.Unlock()
	return s
}

// Publish delivers e to every current subscriber without blocking.
func (b *Bus) Publish(e Event) {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for s := range b.subs {
		s.push(e)
	}
}

func (s *Subscription) push(e Event) {
	s.mu.Lock()
	if !s.closed {
		s.queue = append(s.queue, e)
	}
	s.mu.Unlock()
	select {
	case s.ready <- struct{}{}:
	default:
	}
}

// Ready is signalled when events may be waiting; call Next to take them.
func (s *Subscription) Ready() <-chan struct{} { return s.ready }

// Next returns the queued events (oldest first) and empties the queue.
func (s *Subscription) Next() []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.queue
	s.queue = nil
	return q
}

// Close ends the subscription.
func (s *Subscription) Close() {
	s.bus.mu.Lock()
	delete(s.bus.subs, s)
	s.bus.mu.Unlock()
	s.mu.Lock()
	s.closed = true
	s.queue = nil
	s.mu.Unlock()
}
