package eventlistener

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/events"
)

// This file is the hub's side of an in-place upgrade (package handover):
// the serials, the TICK clock, each pool's buffer and each listener's
// protocol state go to the new image, so that no event is lost, repeated or
// numbered twice across the switch.

// Handed is the event listener state an upgrade hands over.
type Handed struct {
	Serial int64        `json:"serial"` // the last global serial given, -1 for none
	Ticks  []int64      `json:"ticks"`  // the period each TICK was last published for (5, 60, 3600)
	Pools  []HandedPool `json:"pools,omitempty"`
}

// HandedPool is one [eventlistener:x] pool.
type HandedPool struct {
	Group     string           `json:"group"`
	Serial    int64            `json:"serial"` // the last pool serial given, -1 for none
	Buffer    []HandedEvent    `json:"buffer,omitempty"`
	Listeners []HandedListener `json:"listeners,omitempty"`
}

// HandedEvent is an event numbered for a pool and not processed yet.
type HandedEvent struct {
	Name string `json:"name"`
	// Payload is bytes, not a JSON string: a string would not carry
	// invalid UTF-8 (a name in the config file) unchanged.
	Payload    []byte `json:"payload"`
	Serial     int64  `json:"serial"`
	PoolSerial int64  `json:"pool_serial"`
}

// HandedListener is one listener process of a pool.
type HandedListener struct {
	Name  string `json:"name"`
	State string `json:"state"` // its process state
	// Session is the protocol state of its live child; nil without one.
	Session *HandedSession `json:"session,omitempty"`
}

// HandedSession is the protocol state of one listener child.
type HandedSession struct {
	PID      int   `json:"pid"`
	Protocol State `json:"protocol"` // Supervisor's code: READY 10, BUSY 20, ACKNOWLEDGED 30, UNKNOWN 40
	// Unread is what the child wrote that the protocol has not consumed:
	// part of a READY token or of a RESULT line.
	Unread    []byte `json:"unread,omitempty"`
	ResultLen int    `json:"result_len"` // -1 until the RESULT line is read
	ResultGot int    `json:"result_got"`
	Result    []byte `json:"result,omitempty"`
	// Event is the one it is BUSY with: its RESULT answers it.
	Event *HandedEvent `json:"event,omitempty"`
}

// writeTimeout bounds the wait for the event writes under way at a freeze.
const writeTimeout = 5 * time.Second

// Hold stops every pool dispatching and the TICK clock, and waits until the
// events already sent are in their listeners' stdin queues, which the
// runners' freeze hands over. Events are still numbered and buffered, and
// the listeners' output still read, until HandOver. Release undoes it; a
// Hold that fails has undone it already.
func (h *Hub) Hold() error {
	h.ticks.mu.Lock()
	h.mu.Lock()
	h.held = true
	var writes []chan struct{}
	for _, p := range h.pools {
		p.mu.Lock()
		p.held = true
		for _, l := range p.listeners {
			if l.cur != nil && l.cur.lastWrite != nil {
				writes = append(writes, l.cur.lastWrite)
			}
		}
		p.mu.Unlock()
	}
	h.mu.Unlock()
	deadline := time.NewTimer(writeTimeout)
	defer deadline.Stop()
	for _, w := range writes {
		select {
		case <-w:
		case <-deadline.C:
			h.Release()
			return errors.New("an event being written to a listener's stdin did not get there")
		}
	}
	return nil
}

// HandOver takes the events published until now into the pools and returns
// the state to hand over; from now on the hub leaves the events published
// to the next image (see Late). Call it between Hold and Release, once the
// runners are frozen.
func (h *Hub) HandOver() Handed {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.deliverLocked()
	h.frozen = true
	h.serials.mu.Lock()
	st := Handed{Serial: h.serials.last, Ticks: slices.Clone(h.ticks.last)}
	h.serials.mu.Unlock()
	for _, p := range h.pools {
		st.Pools = append(st.Pools, p.handOver())
	}
	return st
}

// handOver is the state of one pool.
func (p *Pool) handOver() HandedPool {
	p.mu.Lock()
	defer p.mu.Unlock()
	hp := HandedPool{Group: p.cfg.Name, Serial: p.serial}
	for _, q := range p.buffer {
		hp.Buffer = append(hp.Buffer, q.handed())
	}
	for _, l := range p.listeners {
		hl := HandedListener{Name: l.name, State: l.state}
		// A child that is gone has given its event back: only a live
		// one's protocol goes on.
		if s := l.cur; s != nil && s.spawned && !s.dead {
			hs := &HandedSession{PID: s.pid, Protocol: s.proto.state, Unread: s.proto.buf,
				ResultLen: s.proto.resultLen, ResultGot: s.proto.resultGot, Result: s.proto.result}
			if s.event != nil {
				e := s.event.handed()
				hs.Event = &e
			}
			hl.Session = hs
		}
		hp.Listeners = append(hp.Listeners, hl)
	}
	return hp
}

func (q *queued) handed() HandedEvent {
	return HandedEvent{Name: q.name, Payload: []byte(q.payload), Serial: q.serial, PoolSerial: q.poolSerial}
}

// Late returns an error if an event a pool would take was published since
// HandOver: it would be lost with this image. The events are kept for
// Release.
func (h *Hub) Late() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.late = append(h.late, h.sub.Next()...)
	n := 0
	for _, e := range h.late {
		if h.wantedLocked(e) {
			n++
		}
	}
	if n > 0 {
		return fmt.Errorf("%d event(s) for the event listeners were published during the switch; upgrade again", n)
	}
	return nil
}

// wantedLocked says whether deliver would act on e.
func (h *Hub) wantedLocked(e events.Event) bool {
	ps, isState := e.(events.ProcessState)
	return slices.ContainsFunc(h.pools, func(p *Pool) bool {
		return p.subscribes(e.Name()) || isState && p.cfg.Name == ps.Group
	})
}

// Release undoes Hold and HandOver after an upgrade that did not happen:
// the events published meanwhile are delivered, the pools dispatch again.
func (h *Hub) Release() {
	h.mu.Lock()
	if !h.held {
		h.mu.Unlock()
		return
	}
	h.held, h.frozen = false, false
	for _, e := range h.late {
		h.deliver(e)
	}
	h.late = nil
	h.deliverLocked()
	for _, p := range h.pools {
		p.mu.Lock()
		p.held = false
		p.dispatchLocked()
		p.mu.Unlock()
	}
	h.mu.Unlock()
	h.ticks.mu.Unlock()
}

// TakeOver makes the hub go on from st, handed over by the previous image:
// call it before the pools are created (NewPool takes each pool's part).
func (h *Hub) TakeOver(st Handed) {
	h.serials.mu.Lock()
	h.serials.last = st.Serial
	h.serials.mu.Unlock()
	if len(st.Ticks) == len(tickPeriods) {
		h.ticks.mu.Lock()
		copy(h.ticks.last, st.Ticks)
		h.ticks.mu.Unlock()
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.handed = make(map[string]HandedPool, len(st.Pools))
	for _, hp := range st.Pools {
		h.handed[hp.Group] = hp
	}
}

// EndTakeOver drops what TakeOver left for pools that were not created:
// their events are lost, which the main log says (the new image's checks
// refuse an upgrade that would do that).
func (h *Hub) EndTakeOver() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for name, hp := range h.handed {
		n := len(hp.Buffer)
		for _, l := range hp.Listeners {
			if l.Session != nil && l.Session.Event != nil {
				n++
			}
		}
		if n > 0 {
			h.logf(config.LevelError, "event listener pool %s was handed over but is not configured: %d event(s) lost", name, n)
		}
	}
	h.handed = nil
}

// takeOver makes a new pool go on from hp: its serial, its buffer (the
// oldest events dropped, as Supervisor drops them, if buffer_size shrank),
// each listener's process state and the session of its live child, which
// the runner taking that child over resumes (ForSpawn).
func (p *Pool) takeOver(hp HandedPool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.serial = hp.Serial
	for _, e := range hp.Buffer {
		p.bufferLocked(takenEvent(e), false)
	}
	for _, hl := range hp.Listeners {
		l := p.listener(hl.Name)
		if l == nil {
			continue
		}
		l.state = hl.State
		if hs := hl.Session; hs != nil {
			s := &session{l: l, pid: hs.PID, proto: protocol{name: l.name, state: hs.Protocol, buf: hs.Unread,
				resultLen: hs.ResultLen, resultGot: hs.ResultGot, result: hs.Result}}
			if hs.Event != nil {
				s.event = takenEvent(*hs.Event)
			}
			l.adopting = s
		}
	}
}

func takenEvent(e HandedEvent) *queued {
	return &queued{name: e.Name, payload: string(e.Payload), serial: e.Serial, poolSerial: e.PoolSerial}
}
