package health

import (
	"encoding/json"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/drover/drover/internal/httpmux"
	"github.com/drover/drover/internal/process"
	"github.com/drover/drover/internal/supervisor"
)

func proc(name string, state process.State, required bool, up time.Duration, now time.Time) supervisor.ProcessSnapshot {
	return supervisor.ProcessSnapshot{
		Info:     process.Info{Name: name, Group: name, State: state, Start: now.Add(-up)},
		Namespec: name, ReadyRequired: required, StartSecs: 2 * time.Second, Description: "d",
	}
}

func TestNotReady(t *testing.T) {
	now := time.Now()
	snap := supervisor.Snapshot{Taken: now, Mood: supervisor.MoodRunning, Groups: []supervisor.GroupSnapshot{
		{Name: "a", Processes: []supervisor.ProcessSnapshot{proc("a", process.Running, true, time.Minute, now)}},
		{Name: "b", Processes: []supervisor.ProcessSnapshot{proc("b", process.Running, true, time.Second, now)}},
		{Name: "c", Processes: []supervisor.ProcessSnapshot{proc("c", process.Fatal, true, 0, now)}},
		{Name: "d", Processes: []supervisor.ProcessSnapshot{proc("d", process.Stopped, false, 0, now)}},
	}}
	want := []string{"b RUNNING (d)", "c FATAL (d)"}
	if got := NotReady(snap); !slices.Equal(got, want) {
		t.Errorf("NotReady = %q, want %q", got, want)
	}
	snap.Groups = snap.Groups[:1]
	if got := NotReady(snap); len(got) != 0 {
		t.Errorf("NotReady = %q, want none", got)
	}
	snap.Mood = supervisor.MoodShutdown
	if got := NotReady(snap); !slices.Equal(got, []string{"supervisord is SHUTDOWN"}) {
		t.Errorf("NotReady while shutting down = %q", got)
	}
}

func TestEndpoints(t *testing.T) {
	now := time.Now()
	snap := supervisor.Snapshot{Taken: now, Mood: supervisor.MoodRunning, Groups: []supervisor.GroupSnapshot{
		{Name: "w", Processes: []supervisor.ProcessSnapshot{proc("w", process.Backoff, true, 0, now)},
			Pool: &supervisor.WorkerPool{Scaling: true, Min: 1, Max: 4, Workers: 1, Target: 3, DecidedAt: now,
				QueueNames: []string{"default"}, QueueOK: true, SampledAt: now,
				Sample: supervisor.QueueSample{Ready: 5, Delayed: 1, Reserved: 2, OldestWait: 1500 * time.Millisecond},
				Jobs:   supervisor.JobCounts{Done: 9, Failed: 1}}},
	}}
	m := httpmux.New()
	Register(m, func() supervisor.Snapshot { return snap })
	h := m.Handler(&httpmux.Auth{Username: "u", Password: "p"})
	get := func(path string, auth bool) (int, string) {
		req := httptest.NewRequest("GET", path, nil)
		if auth {
			req.SetBasicAuth("u", "p")
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code, rec.Body.String()
	}
	if code, body := get("/healthz", false); code != 200 || body != "ok\n" {
		t.Errorf("/healthz: %d %q", code, body)
	}
	for _, path := range []string{"/readyz", "/api/pools"} {
		if code, _ := get(path, false); code != 401 {
			t.Errorf("%s without credentials: %d", path, code)
		}
	}
	if code, body := get("/readyz", true); code != 503 || body != "not ready:\nw BACKOFF (d)\n" {
		t.Errorf("/readyz: %d %q", code, body)
	}
	code, body := get("/api/pools", true)
	var doc Pools
	if err := json.Unmarshal([]byte(body), &doc); code != 200 || err != nil {
		t.Fatalf("/api/pools: %d %v %s", code, err, body)
	}
	p := doc.Pools["w"]
	if p.Desired != 3 || p.Workers != 1 || p.Queue == nil || p.Queue.Ready != 5 || p.Queue.OldestWaitSeconds != 1.5 ||
		p.Queue.JobsDone != 9 || !strings.Contains(body, `"ready":5`) {
		t.Errorf("/api/pools: %s", body)
	}
}
