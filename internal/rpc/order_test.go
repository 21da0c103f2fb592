package rpc

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
	"testing/synctest"
	"time"

	"github.com/drover/drover/internal/process"
	"github.com/drover/drover/internal/xmlrpc"
)

func result(name string, status int, desc string) map[string]any {
	return map[string]any{"name": name, "group": "g", "status": status, "description": desc}
}

// startGroupG sends startProcessGroup("g") to h in the background; done is
// closed once rec has the answer.
func startGroupG(h http.Handler) (rec *httptest.ResponseRecorder, done chan struct{}) {
	var body bytes.Buffer
	xmlrpc.EncodeCall(&body, "supervisor.startProcessGroup", "g")
	rec, done = httptest.NewRecorder(), make(chan struct{})
	go func() {
		h.ServeHTTP(rec, httptest.NewRequest("POST", "/RPC2", &body))
		close(done)
	}()
	return rec, done
}

// wantResults checks the answer in rec against want.
func wantResults(t *testing.T, rec *httptest.ResponseRecorder, want ...any) {
	t.Helper()
	got, err := xmlrpc.DecodeResponse(rec.Body)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("got %#v %v\nwant %#v", got, err, want)
	}
}

// Group results list immediate answers first (failures before a spawn, a
// start that needs no wait), then deferred completions in the order they
// happen; processes that do not need the operation are left out.
func TestGroupResultOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := newFakeProc("g", "a", process.Stopped)
		a.startErr = &process.SpawnError{Kind: process.SpawnNoFile, Msg: "can't find command 'x'"}
		b := newFakeProc("g", "b", process.Stopped)
		c := newFakeProc("g", "c", process.Exited)
		d := newFakeProc("g", "d", process.Running) // already running: skipped
		e := newFakeProc("g", "e", process.Fatal)
		e.startErr = process.ErrAbnormalTermination
		f := newFakeProc("g", "f", process.Stopped) // started at once (startsecs=0)
		for _, p := range []*fakeProc{b, c, e} {
			p.gate = make(chan struct{})
		}
		h := newTestHandler(newFakeBackend(a, b, c, d, e, f))

		rec, done := startGroupG(h)
		// Fake time: c completes at once, but it waited, so it comes after
		// every immediate answer; the sleep ends its batch window.
		synctest.Wait()
		close(c.gate)
		synctest.Wait()
		time.Sleep(batchWindow)
		close(b.gate)
		<-done

		wantResults(t, rec,
			result("a", 20, "NO_FILE: can't find command 'x'"),
			result("e", 40, "ABNORMAL_TERMINATION: g:e"),
			result("f", 80, "OK"), result("c", 80, "OK"), result("b", 80, "OK"))
	})
}

// A start whose fork is queued for the spawn thread lets the next start
// begin before it answers; its answer still counts as immediate unless it
// went deferred, and immediate answers keep the order of the processes,
// not the order they came in.
func TestGroupResultOrderInLine(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := newFakeProc("g", "a", process.Stopped) // fork fails once in line
		a.forkGate = make(chan struct{})
		a.startErr = &process.SpawnError{Kind: process.SpawnFailed, Msg: "Too many processes in process table to spawn 'a'"}
		b := newFakeProc("g", "b", process.Stopped) // waits for RUNNING
		b.forkGate, b.gate = make(chan struct{}), make(chan struct{})
		close(b.forkGate)
		c := newFakeProc("g", "c", process.Stopped) // RUNNING at once
		c.forkGate = make(chan struct{})
		close(c.forkGate)
		h := newTestHandler(newFakeBackend(a, b, c))

		rec, done := startGroupG(h)
		synctest.Wait()
		c.mu.Lock()
		cStarted := c.started
		c.mu.Unlock()
		if !cStarted {
			t.Error("c was not started while a's fork was in line")
		}
		close(a.forkGate)
		synctest.Wait()
		close(b.gate)
		<-done

		wantResults(t, rec, result("a", 50, "SPAWN_ERROR: g:a"), result("c", 80, "OK"), result("b", 80, "OK"))
	})
}

// Without wait every result is immediate and results keep priority order.
func TestGroupResultOrderNoWait(t *testing.T) {
	var ps []*fakeProc
	for _, n := range []string{"a", "b", "c", "d", "e", "f"} {
		ps = append(ps, newFakeProc("g", n, process.Running))
	}
	ps[3].stopErr = process.ErrNotRunning
	h := newTestHandler(newFakeBackend(ps...))
	got, err := call(t, h, "supervisor.stopProcess", "g:*", false)
	want := []any{
		result("a", 80, "OK"), result("b", 80, "OK"), result("c", 80, "OK"),
		result("d", 70, "NOT_RUNNING: g:d"), result("e", 80, "OK"), result("f", 80, "OK"),
	}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("got %#v %v", got, err)
	}
}

// A request that goes away ends the waits of its operations.
func TestStartWaitCancelled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newFakeProc("g", "g", process.Stopped)
		p.gate = make(chan struct{})
		h := newTestHandler(newFakeBackend(p))
		var body bytes.Buffer
		xmlrpc.EncodeCall(&body, "supervisor.startAllProcesses")
		req := httptest.NewRequest("POST", "/RPC2", &body)
		ctx, cancel := contextWithCancel(req)
		done := make(chan struct{})
		go func() {
			h.ServeHTTP(httptest.NewRecorder(), req.WithContext(ctx))
			close(done)
		}()
		synctest.Wait()
		cancel()
		<-done
	})
}
