package rpc

import (
	"bufio"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/httpmux"
	"github.com/drover/drover/internal/process"
)

func TestHTTPErrors(t *testing.T) {
	h := newTestHandler(newFakeBackend())
	chunked := httptest.NewRequest("POST", "/RPC2", strings.NewReader("<x/>"))
	chunked.ContentLength = -1
	tests := []struct {
		name string
		req  *http.Request
		code int
	}{
		{"GET RPC2", httptest.NewRequest("GET", "/RPC2", nil), 400},
		{"no length", chunked, 411},
		{"bad body", httptest.NewRequest("POST", "/RPC2", strings.NewReader("<nonsense")), 400},
		{"no method name", httptest.NewRequest("POST", "/RPC2", strings.NewReader("<methodCall><methodName></methodName></methodCall>")), 400},
		{"RPC2 prefix", httptest.NewRequest("POST", "/RPC2foo", strings.NewReader("<methodCall><methodName>supervisor.getPID</methodName></methodCall>")), 200},
		{"ok", httptest.NewRequest("GET", "/ok.html", nil), 200},
		{"unknown path", httptest.NewRequest("GET", "/nosuch", nil), 404},
		{"unknown status page action", httptest.NewRequest("GET", "/?action=0", nil), 400}, // found by FuzzHandler
		{"logtail POST", httptest.NewRequest("POST", "/logtail/x", nil), 400},
		{"logtail unknown", httptest.NewRequest("GET", "/logtail/nosuch", nil), 404},
		{"mainlogtail without log", httptest.NewRequest("GET", "/mainlogtail", nil), 404},
	}
	for _, tt := range tests {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, tt.req)
		if rec.Code != tt.code {
			t.Errorf("%s: %d, want %d", tt.name, rec.Code, tt.code)
		}
	}
}

func TestAuth(t *testing.T) {
	sum := sha1.Sum([]byte("secret"))
	for _, password := range []string{"secret", "{SHA}" + hex.EncodeToString(sum[:])} {
		h := serveWithAuth(newHandler(newFakeBackend(), nil, Options{}), &httpmux.Auth{Username: "user", Password: password})
		tests := []struct {
			user, pass string
			set        bool
			code       int
		}{
			{"", "", false, 401},
			{"user", "wrong", true, 401},
			{"other", "secret", true, 401},
			{"user", "secret", true, 200},
		}
		for _, tt := range tests {
			for _, path := range []string{"/ok.html", "/"} {
				req := httptest.NewRequest("GET", path, nil)
				if tt.set {
					req.SetBasicAuth(tt.user, tt.pass)
				}
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != tt.code {
					t.Errorf("password %q, %s with %q/%q: %d, want %d", password, path, tt.user, tt.pass, rec.Code, tt.code)
				}
				if tt.code == 401 && (rec.Header().Get("WWW-Authenticate") != `Basic realm="default"` || rec.Header().Get("Connection") != "close") {
					t.Errorf("401 headers: %v", rec.Header())
				}
			}
		}
	}
}

func TestStatusActions(t *testing.T) {
	p := newFakeProc("cat", "cat", process.Running)
	q := newFakeProc("cat2", "cat2", process.Stopped)
	q.startErr = &process.SpawnError{Kind: process.SpawnFailed, Msg: "Exited too quickly"}
	h := newTestHandler(newFakeBackend(p, q))
	tests := []struct {
		query, location string
	}{
		{"processname=cat&action=stop", "http://127.0.0.1:19001/?message=Process%20cat%20stopped"},
		{"processname=cat&action=clearlog", "http://127.0.0.1:19001/?message=Log%20for%20cat%20cleared"},
		{"processname=cat2&action=start", "http://127.0.0.1:19001/?message=ERROR%3A%20Process%20cat2%3A%20spawn%20error"},
		{"processname=nosuch&action=start", "http://127.0.0.1:19001/?message=No%20such%20process%20named%20nosuch"},
	}
	for _, tt := range tests {
		req := httptest.NewRequest("GET", "/index.html?"+tt.query, nil)
		req.Host = "127.0.0.1:19001"
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 301 || rec.Header().Get("Location") != tt.location {
			t.Errorf("%s: %d %q, want 301 %q", tt.query, rec.Code, rec.Header().Get("Location"), tt.location)
		}
	}

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/?message=hello%3Cb%3E", nil))
	body := rec.Body.String()
	for _, want := range []string{"statusrunning", "tail.html?processname=cat", "hello&lt;b&gt;", "action=stop"} {
		if !strings.Contains(body, want) {
			t.Errorf("status page lacks %q:\n%s", want, body)
		}
	}
	if rec.Header().Get("Cache-Control") != "no-cache" {
		t.Errorf("headers %v", rec.Header())
	}
	rec = httptest.NewRecorder()
	newTestHandler(newFakeBackend()).ServeHTTP(rec, httptest.NewRequest("GET", "/status", nil))
	if !strings.Contains(rec.Body.String(), "No programs to manage") {
		t.Errorf("empty status page:\n%s", rec.Body.String())
	}
}

// "/" is the dashboard unless the request is one of the classic page's
// (an action, the message an action redirects to, a form POST).
func TestRootRouting(t *testing.T) {
	h := newTestHandler(newFakeBackend(newFakeProc("cat", "cat", process.Running)))
	tests := []struct {
		method, target, want string
	}{
		{"GET", "/", `id="procs"`},
		{"GET", "/dashboard", `id="procs"`},
		{"GET", "/?message=hi", "Supervisor Status"},
		{"GET", "/status", "Supervisor Status"},
		{"GET", "/index.html", "Supervisor Status"},
		{"GET", "/dashboard/static/classic.css", ".statusrunning"},
	}
	for _, tt := range tests {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.target, nil))
		if rec.Code != 200 || !strings.Contains(rec.Body.String(), tt.want) {
			t.Errorf("%s %s: %d, want 200 with %q", tt.method, tt.target, rec.Code, tt.want)
		}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/?action=refresh", nil))
	if rec.Code != 301 || !strings.HasPrefix(rec.Header().Get("Location"), "http://example.com/?message=Page%20refreshed") {
		t.Errorf("/?action=refresh: %d %q", rec.Code, rec.Header().Get("Location"))
	}
}

func TestLogtail(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out.log")
	os.WriteFile(out, []byte(strings.Repeat("x", 2000)+"END\n"), 0o644)
	p := newFakeProc("g", "p", process.Running)
	p.stdoutLog = out
	srv := httptest.NewServer(newTestHandler(newFakeBackend(p)))
	defer srv.Close()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/logtail/g:p", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/plain;charset=utf-8" ||
		resp.Header.Get("X-Accel-Buffering") != "no" || resp.TransferEncoding[0] != "chunked" {
		t.Fatalf("%d %v %v", resp.StatusCode, resp.Header, resp.TransferEncoding)
	}
	backlog := make([]byte, 1024)
	if _, err := io.ReadFull(resp.Body, backlog); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(string(backlog), "xEND\n") {
		t.Errorf("backlog ends %q", backlog[1000:])
	}
	f, _ := os.OpenFile(out, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("more\n")
	f.Close()
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	if err != nil || line != "more\n" {
		t.Errorf("followed %q %v", line, err)
	}

	// An empty log (e.g. the AUTO log of a process never started) answers
	// 200 at once; the client must not wait for a first byte.
	empty := filepath.Join(dir, "err.log")
	os.WriteFile(empty, nil, 0o644)
	p.stderrLog = empty
	bounded, stop := context.WithTimeout(ctx, 10*time.Second)
	defer stop()
	req, _ = http.NewRequestWithContext(bounded, "GET", srv.URL+"/logtail/g:p/stderr", nil)
	resp2, err := http.DefaultClient.Do(req) // returns once the headers are in
	if err != nil || resp2.StatusCode != 200 {
		t.Fatalf("empty log: %v %v", resp2, err)
	}
	resp2.Body.Close()
	p.stderrLog = ""

	for _, path := range []string{"/logtail/g:p/stderr", "/logtail/g:p/other", "/logtail/g:*"} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 404 {
			t.Errorf("%s: %d", path, resp.StatusCode)
		}
	}
}

// logLines is a process.Logger that keeps what it is given.
type logLines []string

func (l *logLines) Logf(_ config.LogLevel, format string, args ...any) {
	*l = append(*l, fmt.Sprintf(format, args...))
}

// A request that is not XML-RPC is logged with the body as Python's repr()
// shows it.
func TestBadRequestLogged(t *testing.T) {
	var logged logLines
	h := newHandler(newFakeBackend(), nil, Options{Identification: "supervisor", Log: &logged})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/RPC2", strings.NewReader("it's garbage")))
	want := []string{`XML-RPC request data "it's garbage" is invalid: unmarshallable`}
	if rec.Code != 400 || !reflect.DeepEqual([]string(logged), want) {
		t.Errorf("HTTP %d, logged %q; want 400 and %q", rec.Code, logged, want)
	}
}

// A large bad body is logged cut short, with its length.
func TestBadRequestLogCut(t *testing.T) {
	var logged logLines
	h := newHandler(newFakeBackend(), nil, Options{Log: &logged})
	body := strings.Repeat("é", 100_000) // cut falls inside a rune
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/RPC2", strings.NewReader(body)))
	if len(logged) != 1 || len(logged[0]) > 2*maxLoggedBody+100 || !strings.HasSuffix(logged[0], "'... (200000 bytes in all) is invalid: unmarshallable") {
		t.Errorf("logged %d lines, the first %.200q...", len(logged), logged)
	}
}

// The tail page renders (its template is parsed on first use).
func TestTailPage(t *testing.T) {
	rec := httptest.NewRecorder()
	newTestHandler(newFakeBackend()).ServeHTTP(rec, httptest.NewRequest("GET", "/tail.html", nil))
	if body := rec.Body.String(); rec.Code != 200 || !strings.Contains(body, "No process name found") || !strings.Contains(body, "<html") {
		t.Errorf("tail page: %d\n%s", rec.Code, body)
	}
}
