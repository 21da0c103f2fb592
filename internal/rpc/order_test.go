package rpc

import (
	"bytes"
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

		var body bytes.Buffer
		xmlrpc.EncodeCall(&body, "supervisor.startProcessGroup", "g")
		rec := httptest.NewRecorder()
		done := make(chan struct{})
		go func() {
			h.ServeHTTP(rec, httptest.NewRequest("POST", "/RPC2", &body))
			close(done)
		}()
		// Fake time: c completes at once, but it waited, so it comes after
		// every immediate answer; the sleep ends its batch window.
		synctest.Wait()
		close(c.gate)
		synctest.Wait()
		time.Sleep(batchWindow)
		close(b.gate)
		<-done

		got, err := xmlrpc.DecodeResponse(rec.Body)
		want := []any{
			result("a", 20, "NO_FILE: can't find command 'x'"),
			result("e", 40, "ABNORMAL_TERMINATION: g:e"),
			result("f", 80, "OK"),
			result("c", 80, "OK"),
			result("b", 80, "OK"),
		}
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("got %#v %v\nwant %#v", got, err, want)
		}
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
