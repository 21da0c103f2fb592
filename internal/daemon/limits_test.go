package daemon

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// serveLimited serves h on a fresh unix socket within lim and returns a
// function that dials it.
func serveLimited(t *testing.T, h http.Handler, lim httpLimits) func() net.Conn {
	t.Helper()
	sock := filepath.Join(shortTempDir(t), "s.sock")
	ls, err := openListeners(unixServerConfig(sock), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	srv := serve(ls, []http.Handler{h}, lim)
	t.Cleanup(func() { srv.shutdown(); closeListeners(ls) })
	return func() net.Conn {
		c, err := net.Dial("unix", sock)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
}

// status sends raw on c and returns the status code of the answer, leaving
// its body unread (a held handler never ends it).
func status(t *testing.T, c net.Conn, raw string) int {
	t.Helper()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c, raw) // may fail once the server answered and closed
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode
}

func post(body string, length int) string {
	return fmt.Sprintf("POST /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s", length, body)
}

// echoLength answers with the length of the body it could read.
var echoLength = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	fmt.Fprint(w, len(b))
})

func TestBodyBounds(t *testing.T) {
	lim := defaultHTTPLimits()
	lim.maxBody, lim.bigBody, lim.body = 1000, 100, 300*time.Millisecond
	dial := serveLimited(t, echoLength, lim)
	tests := []struct {
		name string
		raw  string
		want int
	}{
		{"small", post("hello", 5), 200},
		{"big", post(strings.Repeat("x", 1000), 1000), 200},
		{"declared too big", post("", 1001), 413},
		{"chunked too big", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3e9\r\n" + strings.Repeat("x", 1001) + "\r\n0\r\n\r\n", 413},
		{"slow body", post("only part", 500), 408},
	}
	for _, tt := range tests {
		if got := status(t, dial(), tt.raw); got != tt.want {
			t.Errorf("%s: HTTP %d, want %d", tt.name, got, tt.want)
		}
	}
}

func TestBigBodiesTakeTurns(t *testing.T) {
	lim := defaultHTTPLimits()
	lim.bigBody, lim.bigSlots, lim.slotWait = 10, 1, 200*time.Millisecond
	release := make(chan struct{})
	dial := serveLimited(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hold" {
			<-release
		}
	}), lim)
	defer close(release)
	holder := dial()
	io.WriteString(holder, "POST /hold HTTP/1.1\r\nHost: x\r\nContent-Length: 20\r\n\r\n"+strings.Repeat("x", 20))
	time.Sleep(100 * time.Millisecond) // the holder takes the one slot
	if got := status(t, dial(), post(strings.Repeat("x", 20), 20)); got != 503 {
		t.Errorf("big body while the slot is held: HTTP %d, want 503", got)
	}
	if got := status(t, dial(), post("small", 5)); got != 200 {
		t.Errorf("small body while the slot is held: HTTP %d, want 200", got)
	}
}

// Connections that trickle their request are closed, oldest first, to make
// room for new ones; busy ones are kept and, when all are, a newcomer gets
// 503.
func TestConnectionCap(t *testing.T) {
	lim := defaultHTTPLimits()
	lim.conns = 3
	release := make(chan struct{})
	dial := serveLimited(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hold" {
			w.WriteHeader(200)
			w.(http.Flusher).Flush()
			<-release
		}
	}), lim)
	defer close(release)

	var slow []net.Conn
	for range 3 {
		c := dial()
		io.WriteString(c, "POST /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Le")
		slow = append(slow, c)
		time.Sleep(20 * time.Millisecond)
	}
	if got := status(t, dial(), "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); got != 200 {
		t.Fatalf("with 3 slow connections open: HTTP %d, want 200", got)
	}
	slow[0].SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := slow[0].Read(make([]byte, 1)); err == nil {
		t.Error("the oldest slow connection was not closed")
	}

	for range 3 {
		if got := status(t, dial(), "GET /hold HTTP/1.1\r\nHost: x\r\n\r\n"); got != 200 {
			t.Fatalf("hold: HTTP %d", got)
		}
	}
	if got := status(t, dial(), "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); got != 503 {
		t.Errorf("with every connection busy: HTTP %d, want 503", got)
	}
}
