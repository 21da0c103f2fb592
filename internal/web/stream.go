package web

import (
	"bytes"
	"encoding/json"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/events"
	"github.com/drover/drover/internal/guard"
)

const (
	// coalesceEvery is the shortest time between two messages to a
	// browser: state changes within it go out together, so 100 chatty
	// processes cost at most 4 messages a second.
	coalesceEvery = 250 * time.Millisecond
	// refreshEvery is how often figures that change without an event
	// (CPU, memory, queue depths, uptimes) are sent.
	refreshEvery = 2 * time.Second
	// writeTimeout drops a browser that cannot take one message in that time.
	writeTimeout = 10 * time.Second
	// maxClients bounds the open event streams of one server.
	maxClients = 64
)

// hub sends snapshots to the open event streams. One goroutine builds
// them while at least one browser listens; each browser has a queue of one
// message where a newer snapshot replaces one not yet sent, so a slow
// browser only gets fewer messages and never holds up the daemon.
type hub struct {
	h       *Handler
	changed chan struct{} // holds a value when state changed since the last snapshot
	// ending is set once the daemon stops: each stream then ends after one
	// message (the browser comes back a second later), so that no stream
	// holds up the HTTP servers' shutdown.
	ending atomic.Bool

	mu      sync.Mutex
	clients map[*client]struct{} // guarded by mu
	running bool                 // the builder runs; guarded by mu
}

type client struct{ next chan []byte } // capacity 1: the newest snapshot not yet sent

func newHub(h *Handler) *hub {
	return &hub{h: h, changed: make(chan struct{}, 1), clients: map[*client]struct{}{}}
}

// follow wakes the stream at each state change until the daemon begins to
// stop (or reload).
func (b *hub) follow(changes, stopping *events.Subscription) {
	defer changes.Close()
	defer stopping.Close()
	for {
		select {
		case <-changes.Ready():
			changes.Next()
			b.poke()
		case <-stopping.Ready():
			b.ending.Store(true)
			b.poke()
			return
		}
	}
}

// poke says the state changed; it never blocks.
func (b *hub) poke() {
	select {
	case b.changed <- struct{}{}:
	default:
	}
}

func (b *hub) join() *client {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.clients) >= maxClients {
		return nil
	}
	c := &client{next: make(chan []byte, 1)}
	b.clients[c] = struct{}{}
	if !b.running {
		b.running = true
		// The daemon never dies of its dashboard: a panic (reported by
		// guard) stops this builder, and the next browser starts another.
		go func() {
			if guard.Run("dashboard snapshots", b.run) != nil {
				b.mu.Lock()
				b.running = false
				b.mu.Unlock()
			}
		}()
	}
	return c
}

func (b *hub) leave(c *client) {
	b.mu.Lock()
	delete(b.clients, c)
	b.mu.Unlock()
}

// run builds and sends snapshots until no browser listens: at once, then
// at most every coalesceEvery when the state changed, and every
// refreshEvery with fresh CPU and memory figures.
func (b *hub) run() {
	ticker := time.NewTicker(coalesceEvery)
	defer ticker.Stop()
	var res resources
	for first := true; ; first = false {
		if !first {
			<-ticker.C
		}
		b.mu.Lock()
		if len(b.clients) == 0 {
			b.running = false
			b.mu.Unlock()
			return
		}
		b.mu.Unlock()
		changed := first
		select {
		case <-b.changed:
			changed = true
		default:
		}
		refresh := time.Since(res.readAt) >= refreshEvery
		if !changed && !refresh {
			continue
		}
		snap := b.h.opts.Snapshot()
		if refresh {
			res.readAt = time.Now()
			trees, at, err := b.h.opts.Procs.Trees()
			if err != nil && b.h.opts.Log != nil {
				b.h.opts.Log.Logf(config.LevelWarn, "dashboard: %v", err)
			}
			res.trees, res.at = trees, at
		}
		s := build(snap, res)
		s.Fleet = b.h.opts.Fleet != nil
		b.broadcast(encodeEvent("state", s))
	}
}

// broadcast gives msg to every browser, replacing a message not yet sent.
func (b *hub) broadcast(msg []byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for c := range b.clients {
		select {
		case <-c.next:
		default:
		}
		c.next <- msg // cannot block: only this loop sends, under mu
	}
}

// encodeEvent is one Server-Sent Event; JSON has no raw newlines, so the
// data is one line.
func encodeEvent(name string, v any) []byte {
	data, err := json.Marshal(v)
	if err != nil {
		data, _ = json.Marshal(map[string]string{"error": err.Error()})
	}
	var buf bytes.Buffer
	buf.Grow(len(data) + len(name) + 16)
	buf.WriteString("event: ")
	buf.WriteString(name)
	buf.WriteString("\ndata: ")
	buf.Write(data)
	buf.WriteString("\n\n")
	return buf.Bytes()
}

// serve is /dashboard/events: the state stream.
func (b *hub) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	c := b.join()
	if c == nil {
		http.Error(w, "too many dashboards open", http.StatusServiceUnavailable)
		return
	}
	defer b.leave(c)
	b.poke() // the newcomer gets a snapshot at once
	rc := startStream(w, "text/event-stream")
	// A browser reconnects by itself; after a daemon restart, within a second.
	w.Write([]byte("retry: 1000\n\n"))
	rc.Flush()
	for {
		select {
		case <-r.Context().Done():
			return
		case msg := <-c.next:
			rc.SetWriteDeadline(time.Now().Add(writeTimeout))
			if _, err := w.Write(msg); err != nil {
				return
			}
			if rc.Flush() != nil || b.ending.Load() {
				return
			}
		}
	}
}

// startStream sends the headers of an endless response at once (a proxy
// must not buffer it) and returns the controller that flushes it.
func startStream(w http.ResponseWriter, contentType string) *http.ResponseController {
	hdr := w.Header()
	hdr.Set("Content-Type", contentType)
	hdr.Set("Cache-Control", "no-cache")
	hdr.Set("X-Accel-Buffering", "no")
	rc := http.NewResponseController(w)
	w.WriteHeader(http.StatusOK)
	rc.Flush()
	return rc
}
