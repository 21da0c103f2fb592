package web

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/events"
	"github.com/drover/drover/internal/process"
	"github.com/drover/drover/internal/supervisor"
	"github.com/drover/drover/internal/wire"
)

// fakeSource is the daemon as the dashboard sees it: a snapshot, and the
// XML-RPC calls it is asked to make.
type fakeSource struct {
	mu    sync.Mutex
	snap  supervisor.Snapshot
	calls []string
	fault map[string]string // method -> fault text
}

func (f *fakeSource) Snapshot() supervisor.Snapshot {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.snap
}

func (f *fakeSource) Call(_ context.Context, method string, params ...any) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, fmt.Sprintf("%s %v", method, params))
	if text, ok := f.fault[method]; ok {
		return nil, errors.New(text)
	}
	return nil, nil
}

// change runs edit on the snapshot's first process.
func (f *fakeSource) change(edit func(p *supervisor.ProcessSnapshot)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	edit(&f.snap.Groups[0].Processes[0])
}

// oneProcess is a snapshot of process a of group g.
func oneProcess(info process.Info) supervisor.Snapshot {
	info.Group, info.Name = "g", "a"
	return supervisor.Snapshot{Taken: time.Now(), Groups: []supervisor.GroupSnapshot{{Name: "g",
		Processes: []supervisor.ProcessSnapshot{{Info: info, Namespec: "g:a"}}}}}
}

func newDashboard(src *fakeSource, opts Options) *Handler {
	opts.Snapshot, opts.Actions = src.Snapshot, src
	return New(opts)
}

type logLines struct {
	mu    sync.Mutex
	lines []string
}

func (l *logLines) Logf(_ config.LogLevel, format string, args ...any) {
	l.mu.Lock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
	l.mu.Unlock()
}

func postAction(h http.Handler, body string, mutate func(*http.Request)) *httptest.ResponseRecorder {
	req := httptest.NewRequest("POST", "http://drover.test/dashboard/action", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.SetBasicAuth("alice", "pw")
	if mutate != nil {
		mutate(req)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestActionsRunTheRPCMethods(t *testing.T) {
	tests := []struct {
		body  string
		calls []string
	}{
		{`{"action":"start","scope":"process","name":"g:a"}`, []string{"supervisor.startProcess [g:a]"}},
		{`{"action":"stop","scope":"group","name":"g"}`, []string{"supervisor.stopProcessGroup [g]"}},
		{`{"action":"restart","scope":"all"}`, []string{"supervisor.stopAllProcesses []", "supervisor.startAllProcesses []"}},
		{`{"action":"signal","scope":"process","name":"g:a","signal":"HUP"}`, []string{"supervisor.signalProcess [g:a HUP]"}},
		{`{"action":"signal","scope":"all","signal":"USR1"}`, []string{"supervisor.signalAllProcesses [USR1]"}},
		{`{"action":"rolling","scope":"group","name":"web"}`, []string{"drover.rollingRestart [web 1]"}},
		{`{"action":"bounds","scope":"group","name":"w","min":2,"max":5}`, []string{"drover.setPoolBounds [w 2 5]"}},
	}
	for _, tt := range tests {
		src := &fakeSource{}
		h := newDashboard(src, Options{})
		rec := postAction(h, tt.body, nil)
		var res actionResult
		json.Unmarshal(rec.Body.Bytes(), &res)
		if rec.Code != 200 || !res.OK || !reflect.DeepEqual(src.calls, tt.calls) {
			t.Errorf("%s: %d %+v, calls %q; want %q", tt.body, rec.Code, res, src.calls, tt.calls)
		}
	}
}

func TestActionFaultsAndLog(t *testing.T) {
	var logged logLines
	src := &fakeSource{fault: map[string]string{"supervisor.stopProcess": "NOT_RUNNING", "supervisor.startProcess": "SPAWN_ERROR: g:a"}}
	h := newDashboard(src, Options{Log: &logged})

	// restart of a stopped process: the NOT_RUNNING of the stop is no failure.
	rec := postAction(h, `{"action":"restart","scope":"process","name":"g:a"}`, nil)
	var res actionResult
	json.Unmarshal(rec.Body.Bytes(), &res)
	if res.OK || res.Message != "restart g:a: SPAWN_ERROR: g:a" || len(src.calls) != 2 {
		t.Errorf("restart: %+v, calls %q", res, src.calls)
	}
	postAction(h, `{"action":"stop","scope":"process","name":"g:a"}`, func(r *http.Request) { r.Header.Del("Authorization") })
	postAction(h, `{"action":"bounds","scope":"group","name":"w","min":2,"max":3}`, nil)
	want := []string{"dashboard: alice asked to restart g:a: SPAWN_ERROR: g:a", "dashboard: anonymous asked to stop g:a: NOT_RUNNING",
		"dashboard: alice asked to set bounds [2-3] of group w: done"}
	if !reflect.DeepEqual(logged.lines, want) {
		t.Errorf("logged %q, want %q", logged.lines, want)
	}
}

func TestActionRefusals(t *testing.T) {
	src := &fakeSource{}
	h := newDashboard(src, Options{})
	body := `{"action":"stop","scope":"all"}`
	tests := []struct {
		name   string
		mutate func(*http.Request)
		code   int
	}{
		{"another site", func(r *http.Request) { r.Header.Set("Sec-Fetch-Site", "cross-site") }, http.StatusForbidden},
		{"another origin", func(r *http.Request) {
			r.Header.Del("Sec-Fetch-Site")
			r.Header.Set("Origin", "http://evil.test")
		}, http.StatusForbidden},
		{"a form post", func(r *http.Request) { r.Header.Set("Content-Type", "application/x-www-form-urlencoded") }, http.StatusUnsupportedMediaType},
		{"a GET", func(r *http.Request) { r.Method = "GET" }, http.StatusMethodNotAllowed},
		{"unknown action", func(r *http.Request) {
			*r = *httptest.NewRequest("POST", "http://drover.test/dashboard/action", strings.NewReader(`{"action":"explode","scope":"all"}`))
			r.Header.Set("Content-Type", "application/json")
		}, http.StatusOK},
	}
	for _, tt := range tests {
		rec := postAction(h, body, tt.mutate)
		if rec.Code != tt.code {
			t.Errorf("%s: %d, want %d", tt.name, rec.Code, tt.code)
		}
	}
	if len(src.calls) != 0 {
		t.Errorf("refused requests called %q", src.calls)
	}
}

// A burst of state changes reaches a browser as few messages, and a browser
// that never reads holds nothing up.
func TestStreamCoalescesAndNeverBlocks(t *testing.T) {
	bus := &events.Bus{}
	src := &fakeSource{snap: oneProcess(process.Info{State: process.Running})}
	h := newDashboard(src, Options{Events: bus})
	srv := httptest.NewServer(h)
	defer srv.Close()

	// A browser that never reads its stream.
	stuck, err := http.Get(srv.URL + "/dashboard/events")
	if err != nil {
		t.Fatal(err)
	}
	defer stuck.Body.Close()

	resp, err := http.Get(srv.URL + "/dashboard/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q", ct)
	}
	msgs := make(chan snapshot, 100)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				var s snapshot
				json.Unmarshal([]byte(data), &s)
				msgs <- s
			}
		}
		close(msgs)
	}()
	first := <-msgs
	if len(first.Processes) != 1 || first.Processes[0].State != "RUNNING" {
		t.Fatalf("first snapshot %+v", first)
	}

	start := time.Now()
	src.mu.Lock()
	src.snap.RecentRestarts = 7
	src.mu.Unlock()
	src.change(func(p *supervisor.ProcessSnapshot) {
		p.State = process.Exited
		p.Restarts[supervisor.RestartCrash] = 5
	})
	for i := range 1000 {
		bus.Publish(events.ProcessState{Group: "g", Process: "a", From: "RUNNING", To: []string{"STARTING", "RUNNING"}[i%2]})
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("publishing took %v: something blocked", d)
	}
	got := 0
	deadline := time.After(10 * time.Second)
	for {
		select {
		case s := <-msgs:
			got++
			if s.Processes[0].State == "EXITED" {
				// 1000 changes within well under a second: a handful of
				// messages (one per 250 ms), never one per change.
				if got > 20 {
					t.Errorf("%d messages for one burst", got)
				}
				// Restart figures are the core's.
				if s.RestartsLastHour != 7 || s.Processes[0].Restarts != 5 {
					t.Errorf("restarts %d and %d, want the snapshot's 7 and 5", s.RestartsLastHour, s.Processes[0].Restarts)
				}
				return
			}
		case <-deadline:
			t.Fatalf("no snapshot with the change after %d messages", got)
		}
	}
}

func TestLogFollows(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.log")
	os.WriteFile(path, []byte("old line\n"), 0o644)
	logFile := func(namespec, channel string) (string, bool) {
		switch {
		case namespec != "g:a":
			return "", false
		case channel == "stderr":
			return "", true
		}
		return path, true
	}
	h := newDashboard(&fakeSource{}, Options{LogFile: logFile})
	srv := httptest.NewServer(h)
	defer srv.Close()
	for q, code := range map[string]int{"name=g:a&channel=stderr": 404, "name=nope": 404, "name=g:a&channel=x": 400, "name=g:a&backlog=-1": 400} {
		resp, err := http.Get(srv.URL + "/dashboard/log?" + q)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != code {
			t.Errorf("%s: %d, want %d", q, resp.StatusCode, code)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/dashboard/log?name=g:a", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	r := bufio.NewReader(resp.Body)
	if line, _ := r.ReadString('\n'); line != "old line\n" {
		t.Fatalf("backlog %q", line)
	}
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("new line\n")
	f.Close()
	if line, err := r.ReadString('\n'); line != "new line\n" {
		t.Fatalf("followed %q %v", line, err)
	}
}

// Once the daemon stops, a stream ends after one message, so that it does
// not hold up the shutdown of the HTTP server, however many state changes
// follow the stop.
func TestStreamEndsWhenTheDaemonStops(t *testing.T) {
	bus := &events.Bus{}
	h := newDashboard(&fakeSource{}, Options{Events: bus})
	srv := httptest.NewServer(h)
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/dashboard/events", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	r := bufio.NewReader(resp.Body)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("stream ended before its first message: %v", err)
		}
		if strings.HasPrefix(line, "data: ") {
			break
		}
	}
	bus.Publish(events.SupervisorStopping{})
	// The processes stop next: their changes must not crowd the stop out.
	for range 200 {
		bus.Publish(events.ProcessState{Process: "p", To: "STOPPING"})
	}
	if _, err := io.Copy(io.Discard, r); err != nil {
		t.Fatalf("stream did not end cleanly: %v", err)
	}
	if ctx.Err() != nil {
		t.Fatal("the stream was still open 30 s after the daemon began to stop")
	}
}

func TestFleetStream(t *testing.T) {
	src := &fakeSource{snap: oneProcess(process.Info{State: process.Running})}
	without := httptest.NewServer(newDashboard(src, Options{}))
	defer without.Close()
	for _, path := range []string{"/dashboard/fleet", "/dashboard/fleet/events"} {
		resp, err := http.Get(without.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s without [fleet]: %d, want 404", path, resp.StatusCode)
		}
	}

	var reads atomic.Int32
	fleet := func(context.Context) ([]wire.FleetNode, error) {
		if reads.Add(1) == 2 {
			return nil, errors.New("fleet: Redis unreachable: connection refused")
		}
		return []wire.FleetNode{{Name: "n1", State: wire.FleetUp, Counts: map[string]int{"RUNNING": 2}}}, nil
	}
	srv := httptest.NewServer(newDashboard(src, Options{Fleet: fleet}))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/dashboard/fleet/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q", ct)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	var msgs []fleetMessage
	for len(msgs) < 3 && sc.Scan() {
		if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			var m fleetMessage
			if err := json.Unmarshal([]byte(data), &m); err != nil {
				t.Fatal(err)
			}
			msgs = append(msgs, m)
		}
	}
	if len(msgs) != 3 {
		t.Fatalf("%d messages: %v", len(msgs), sc.Err())
	}
	if m := msgs[0]; len(m.Nodes) != 1 || m.Nodes[0].Name != "n1" || m.Error != "" {
		t.Errorf("first message %+v", m)
	}
	if m := msgs[1]; len(m.Nodes) != 0 || !strings.Contains(m.Error, "Redis unreachable") {
		t.Errorf("a failed read gives %+v, want the error and no node", m)
	}
	if m := msgs[2]; len(m.Nodes) != 1 {
		t.Errorf("after the failure %+v", m)
	}
	page, err := http.Get(srv.URL + "/dashboard/fleet")
	if err != nil {
		t.Fatal(err)
	}
	page.Body.Close()
	if page.StatusCode != http.StatusOK {
		t.Errorf("GET /dashboard/fleet: %d", page.StatusCode)
	}
}
