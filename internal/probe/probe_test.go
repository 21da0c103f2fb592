package probe

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/drover/drover/internal/config"
)

// fakeRedis answers each command line with the reply the table gives it and
// closes the connection; it returns its address.
func fakeRedis(t *testing.T, replies map[string]string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				r := bufio.NewReader(conn)
				for {
					// *N, then $len and the argument N times; the command is the first argument.
					head, err := r.ReadString('\n')
					if err != nil {
						return
					}
					var n int
					for _, c := range strings.TrimSpace(head[1:]) {
						n = n*10 + int(c-'0')
					}
					var args []string
					for range n {
						_, _ = r.ReadString('\n')
						a, _ := r.ReadString('\n')
						args = append(args, strings.TrimSpace(a))
					}
					reply, ok := replies[strings.Join(args, " ")]
					if !ok {
						reply = "-ERR unknown"
					}
					conn.Write([]byte(reply + "\r\n"))
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// closedAddr is a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestRun(t *testing.T) {
	open, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer open.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/health" {
			http.Error(w, "no", http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	ready := fakeRedis(t, map[string]string{"PING": "+PONG"})
	loading := fakeRedis(t, map[string]string{"PING": "-LOADING Redis is loading the dataset in memory"})
	auth := fakeRedis(t, map[string]string{"AUTH s3cret": "+OK", "PING": "+PONG"})
	tests := []struct {
		name  string
		check string
		ok    bool
	}{
		{"tcp open", "tcp://" + open.Addr().String(), true},
		{"tcp closed", "tcp://" + closedAddr(t), false},
		{"http 200", srv.URL + "/health", true},
		{"http 503", srv.URL + "/other", false},
		{"http closed", "http://" + closedAddr(t) + "/", false},
		{"redis pong", "redis://" + ready, true},
		{"redis loading", "redis://" + loading, false},
		{"redis auth", "redis://:s3cret@" + auth, true},
		{"redis wrong password", "redis://:nope@" + auth, false},
		{"redis closed", "redis://" + closedAddr(t), false},
		{"command true", "command:/bin/sh -c 'exit 0'", true},
		{"command false", "command:/bin/sh -c 'exit 3'", false},
		{"command missing", "command:/nonexistent/check", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := config.ParseCheck(tt.check)
			if err != nil {
				t.Fatal(err)
			}
			err = Run(context.Background(), c)
			if (err == nil) != tt.ok {
				t.Fatalf("Run(%s) = %v, want ok=%v", tt.check, err, tt.ok)
			}
		})
	}
}
