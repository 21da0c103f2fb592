package rpc

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/drover/drover/internal/process"
	"github.com/drover/drover/internal/xmlrpc"
)

// genericProcessInfo is the ProcessInfo struct built as a generic value,
// what the generic encoder writes; processInfo must write the same bytes.
func genericProcessInfo(info process.Info, now time.Time) xmlrpc.Struct {
	return xmlrpc.Struct{
		member("name", info.Name),
		member("group", info.Group),
		member("start", epoch(info.Start)),
		member("stop", epoch(info.Stop)),
		member("now", epoch(now)),
		member("state", int(info.State)),
		member("statename", info.State.String()),
		member("spawnerr", info.SpawnErr),
		member("exitstatus", info.ExitStatus),
		member("logfile", info.StdoutLog),
		member("stdout_logfile", info.StdoutLog),
		member("stderr_logfile", info.StderrLog),
		member("pid", info.PID),
		member("description", info.Description(now)),
	}
}

// texts are what names, paths and messages may hold: what XML escapes,
// non-ASCII, invalid UTF-8 (a cut character), control bytes, long text.
var texts = []string{
	"", "web", "p0001", "a&b", "<x>", "tail > file && echo", "café", "日本語のプログラム",
	"bad\xffutf8", "cut\xe6\x97", "\x1b[31mred\x1b[0m", "tab\tand\nnewline", "quote\"'",
	"&amp; already", strings.Repeat("long <spawn> error & more ", 20), "/var/log/supervisor/web-stdout---supervisor-abcd1234.log",
}

var states = []process.State{
	process.Stopped, process.Starting, process.Running, process.Backoff,
	process.Stopping, process.Exited, process.Fatal, process.Unknown,
}

func randomTime(r *rand.Rand, now time.Time) time.Time {
	switch r.IntN(6) {
	case 0:
		return time.Time{}
	case 1:
		return time.Unix(math.MaxInt32+r.Int64N(1e9), 0) // beyond XML-RPC's int: clamped
	case 2:
		return time.Unix(-r.Int64N(1e10), 0)
	case 3:
		return now.Add(time.Duration(r.Int64N(int64(1000 * 24 * time.Hour)))) // after now: uptime 0
	}
	return now.Add(-time.Duration(r.Int64N(int64(400 * 24 * time.Hour))))
}

func randomInfo(r *rand.Rand, now time.Time) process.Info {
	text := func() string { return texts[r.IntN(len(texts))] }
	info := process.Info{
		Name: text(), Group: text(), State: states[r.IntN(len(states))],
		Start: randomTime(r, now), Stop: randomTime(r, now),
		PID: r.IntN(math.MaxInt32), ExitStatus: r.IntN(512) - 256,
		SpawnErr: text(), StdoutLog: text(), StderrLog: text(),
	}
	if r.IntN(4) == 0 {
		info.Waiting = "waiting for " + text()
	}
	if r.IntN(8) == 0 {
		info.PID = math.MaxInt32 + r.IntN(1<<40) // an int beyond 32 bits is written as is
	}
	return info
}

// The hand-written ProcessInfo encoding is byte for byte the generic
// encoder's, for every state and for text that needs escaping or
// replacing, alone (getProcessInfo), as the array of getAllProcessInfo
// (large enough to cross chunk boundaries), and nested in a multicall's
// results; and a released message's memory does not leak into the next.
func TestProcessInfoEncodingMatchesGeneric(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 2026))
	for round := range 20 {
		now := time.Unix(1764900000+r.Int64N(1e8), 0)
		infos := make([]process.Info, 1+r.IntN(400))
		generic := make([]any, len(infos))
		for i := range infos {
			infos[i] = randomInfo(r, now)
			generic[i] = genericProcessInfo(infos[i], now)
		}
		sameEncoding(t, fmt.Sprintf("round %d, one", round), processInfo{infos[0], now}, generic[0])
		sameEncoding(t, fmt.Sprintf("round %d, all %d", round, len(infos)), allProcessInfo{infos: infos, now: now}, generic)
		sameEncoding(t, fmt.Sprintf("round %d, multicall", round),
			[]any{allProcessInfo{infos: infos[:1], now: now}, true, processInfo{infos[0], now}},
			[]any{generic[:1], true, generic[0]})
	}
	sameEncoding(t, "no process", allProcessInfo{now: time.Unix(0, 0)}, []any{})
}

func sameEncoding(t *testing.T, what string, fast, generic any) {
	t.Helper()
	want, err := xmlrpc.NewResponse(generic)
	if err != nil {
		t.Fatal(err)
	}
	got, err := xmlrpc.NewResponse(fast)
	if err != nil {
		t.Fatal(err)
	}
	if g, w := got.String(), want.String(); g != w {
		i := 0
		for i < min(len(g), len(w)) && g[i] == w[i] {
			i++
		}
		t.Errorf("%s: the fast encoding (%d bytes) differs from the generic one (%d bytes) at byte %d:\n got …%q\nwant …%q",
			what, len(g), len(w), i, g[max(i-80, 0):min(i+80, len(g))], w[max(i-80, 0):min(i+80, len(w))])
	}
	if got.Len() != want.Len() {
		t.Errorf("%s: Len %d, want %d", what, got.Len(), want.Len())
	}
	got.Release()
	want.Release()
}

// BenchmarkAllProcessInfo encodes getAllProcessInfo's answer for 500
// RUNNING programs, as the daemon does for each `supervisorctl status`.
func BenchmarkAllProcessInfo(b *testing.B) {
	now := time.Unix(1764903600, 0)
	all := allProcessInfo{infos: make([]process.Info, 500), now: now}
	for i := range all.infos {
		name := fmt.Sprintf("p%04d", i)
		all.infos[i] = process.Info{
			Name: name, Group: name, State: process.Running, Start: now.Add(-time.Hour), PID: 100000 + i,
			StdoutLog: "/var/log/supervisor/" + name + "-stdout---supervisor-abcd1234.log",
			StderrLog: "/var/log/supervisor/" + name + "-stderr---supervisor-efgh5678.log",
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		m, err := xmlrpc.NewResponse(all)
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(m.Len()))
		m.Release()
	}
}

// discardResponse is a ResponseWriter that keeps only the headers.
type discardResponse struct{ header http.Header }

func (d *discardResponse) Header() http.Header         { return d.header }
func (d *discardResponse) Write(p []byte) (int, error) { return len(p), nil }
func (d *discardResponse) WriteHeader(int)             {}

// BenchmarkServeAllProcessInfo serves getAllProcessInfo of 500 RUNNING
// programs through the handler, from the request's body to the answer's
// last write: what the daemon spends per call besides net/http and the
// socket.
func BenchmarkServeAllProcessInfo(b *testing.B) {
	now := time.Now()
	var ps []*fakeProc
	for i := range 500 {
		name := fmt.Sprintf("p%04d", i)
		p := newFakeProc(name, name, process.Running)
		p.info.Start, p.info.PID = now.Add(-time.Hour), 100000+i
		p.info.StdoutLog = "/var/log/supervisor/" + name + "-stdout---supervisor-abcd1234.log"
		p.info.StderrLog = "/var/log/supervisor/" + name + "-stderr---supervisor-efgh5678.log"
		ps = append(ps, p)
	}
	h := newTestHandler(newFakeBackend(ps...))
	var body bytes.Buffer
	if err := xmlrpc.EncodeCall(&body, "supervisor.getAllProcessInfo"); err != nil {
		b.Fatal(err)
	}
	call := body.String()
	w := &discardResponse{header: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		h.serveRPC(w, httptest.NewRequest("POST", "/RPC2", strings.NewReader(call)))
	}
}

// Concurrent getAllProcessInfo calls, while the processes change state,
// each get their own infos: the pool hands a slice to one answer at a
// time, and takes it back only once that answer is written.
func TestAllProcessInfoConcurrent(t *testing.T) {
	var ps []*fakeProc
	for i := range 100 {
		name := fmt.Sprintf("p%04d", i)
		p := newFakeProc(name, name, process.Running)
		p.info.PID = 1000 + i
		ps = append(ps, p)
	}
	h := newTestHandler(newFakeBackend(ps...))
	stop := make(chan struct{})
	changed := make(chan struct{})
	go func() {
		defer close(changed)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			p := ps[i%len(ps)]
			p.mu.Lock()
			p.info.State = states[i%len(states)]
			p.mu.Unlock()
		}
	}()
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 10 {
				v, err := call(t, h, "supervisor.getAllProcessInfo")
				if err != nil {
					t.Error(err)
					return
				}
				all := v.([]any)
				if len(all) != len(ps) {
					t.Errorf("%d processes, want %d", len(all), len(ps))
					return
				}
				for i, s := range all {
					m := s.(map[string]any)
					if name, pid := fmt.Sprintf("p%04d", i), 1000+i; m["name"] != name || m["pid"] != pid {
						t.Errorf("process %d is %v with pid %v, want %s with %d", i, m["name"], m["pid"], name, pid)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	<-changed
}
