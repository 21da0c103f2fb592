package daemon

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// httpLimits bound what HTTP clients may hold, on every route of every
// server. Supervisor has none: it reads any body whole, never times a client
// out and accepts connections until it runs out of descriptors. The figures
// are in docs/robustness.md.
type httpLimits struct {
	// maxBody is the largest request body (413 beyond).
	maxBody int64
	// A body larger than bigBody (or of unknown length) is read only while
	// one of bigSlots is free (503 after slotWait), so that concurrent
	// large bodies cannot multiply the daemon's memory.
	bigBody  int64
	bigSlots int
	slotWait time.Duration
	// body: how long a client may take to send its body (408);
	// header: its headers; idle: between requests on a kept-alive connection.
	body, header, idle time.Duration
	// conns is how many connections one server keeps open.
	conns int
}

// defaultHTTPLimits: 4 MiB bodies leave room for the largest real calls
// (sendProcessStdin, long multicalls), and a server keeps an eighth of the
// open-files limit (between 16 and 512) so that descriptors stay in reserve
// for the children's pipes and logs.
func defaultHTTPLimits() httpLimits {
	conns := 64
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err == nil {
		conns = int(min(max(rl.Cur/8, 16), 512))
	}
	return httpLimits{
		maxBody: 4 << 20, bigBody: 64 << 10, bigSlots: 4, slotWait: 5 * time.Second,
		body: 30 * time.Second, header: 10 * time.Second, idle: 2 * time.Minute,
		conns: conns,
	}
}

// connLimiter is a listener that holds at most limit connections. When one
// more arrives it closes the oldest connection still sending its request
// (or idle between requests) to make room, so that clients trickling bytes
// cannot lock others out; connections whose handler runs (a log tail, a
// call waiting for a start) are never closed. When every connection is
// busy the newcomer gets 503.
type connLimiter struct {
	net.Listener
	limit int
	mu    sync.Mutex
	open  map[*limitedConn]struct{} // guarded by mu
	seq   uint64                    // guarded by mu: accept order
}

func newConnLimiter(l net.Listener, limit int) *connLimiter {
	return &connLimiter{Listener: l, limit: limit, open: map[*limitedConn]struct{}{}}
}

// limitedConn is one connection a connLimiter counts.
type limitedConn struct {
	net.Conn
	lim     *connLimiter
	order   uint64      // accept order, oldest first
	busy    atomic.Bool // a handler runs for it
	dropped sync.Once
}

var errServerBusy = []byte("HTTP/1.0 503 Service Unavailable\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nevery connection of this server is busy\n")

func (l *connLimiter) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		l.mu.Lock()
		if len(l.open) >= l.limit {
			victim := l.oldestWaiting()
			if victim == nil {
				l.mu.Unlock()
				c.SetWriteDeadline(time.Now().Add(time.Second))
				c.Write(errServerBusy)
				c.Close()
				continue
			}
			delete(l.open, victim)
			victim.Conn.Close() // its server goroutine sees the error and ends
		}
		l.seq++
		lc := &limitedConn{Conn: c, lim: l, order: l.seq}
		l.open[lc] = struct{}{}
		l.mu.Unlock()
		return lc, nil
	}
}

// oldestWaiting is the earliest accepted connection without a running
// handler, or nil. Called with mu held.
func (l *connLimiter) oldestWaiting() *limitedConn {
	var oldest *limitedConn
	for c := range l.open {
		if !c.busy.Load() && (oldest == nil || c.order < oldest.order) {
			oldest = c
		}
	}
	return oldest
}

func (c *limitedConn) Close() error {
	c.dropped.Do(func() {
		c.lim.mu.Lock()
		delete(c.lim.open, c)
		c.lim.mu.Unlock()
	})
	return c.Conn.Close()
}

// connKey is the context key of the *limitedConn a request came on.
type connKey struct{}

func withConn(ctx context.Context, c net.Conn) context.Context {
	return context.WithValue(ctx, connKey{}, c)
}

// bodyLimiter reads each request's whole body, bounded in size and time,
// before its handler runs, and marks the connection busy while it does.
type bodyLimiter struct {
	next     http.Handler
	lim      httpLimits
	bigSlots chan struct{}
}

func newBodyLimiter(next http.Handler, lim httpLimits) *bodyLimiter {
	return &bodyLimiter{next: next, lim: lim, bigSlots: make(chan struct{}, lim.bigSlots)}
}

func (b *bodyLimiter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.ContentLength > b.lim.maxBody {
		refuse(w, http.StatusRequestEntityTooLarge)
		return
	}
	if r.ContentLength != 0 {
		if r.ContentLength < 0 || r.ContentLength > b.lim.bigBody {
			release, ok := b.takeBigSlot(r.Context())
			if !ok {
				refuse(w, http.StatusServiceUnavailable)
				return
			}
			defer release()
		}
		body, status := b.readBody(w, r)
		if status != 0 {
			refuse(w, status)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	if c, ok := r.Context().Value(connKey{}).(*limitedConn); ok {
		c.busy.Store(true)
		defer c.busy.Store(false)
	}
	b.next.ServeHTTP(w, r)
}

func (b *bodyLimiter) takeBigSlot(ctx context.Context) (release func(), ok bool) {
	t := time.NewTimer(b.lim.slotWait)
	defer t.Stop()
	select {
	case b.bigSlots <- struct{}{}:
		return func() { <-b.bigSlots }, true
	case <-t.C:
	case <-ctx.Done():
	}
	return nil, false
}

// readBody reads r's body in time. A failure is an HTTP status.
func (b *bodyLimiter) readBody(w http.ResponseWriter, r *http.Request) ([]byte, int) {
	rc := http.NewResponseController(w)
	rc.SetReadDeadline(time.Now().Add(b.lim.body))
	defer rc.SetReadDeadline(time.Time{})
	body, err := io.ReadAll(io.LimitReader(r.Body, b.lim.maxBody+1))
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		return nil, http.StatusRequestTimeout
	case err != nil:
		return nil, http.StatusBadRequest
	case int64(len(body)) > b.lim.maxBody:
		return nil, http.StatusRequestEntityTooLarge
	}
	return body, 0
}

// refuse answers a request the limits turn away and closes its connection.
func refuse(w http.ResponseWriter, status int) {
	w.Header().Set("Connection", "close")
	http.Error(w, http.StatusText(status), status)
}
