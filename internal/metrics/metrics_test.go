package metrics

import (
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/process"
	"github.com/drover/drover/internal/proctree"
	"github.com/drover/drover/internal/supervisor"
)

// scrape serves one scrape of snap (process trees read from procfs) and
// parses it with Prometheus's own text parser.
func scrape(t *testing.T, snap supervisor.Snapshot, procfs string) map[string]*dto.MetricFamily {
	t.Helper()
	return scrapeWith(t, Options{Snapshot: snapshotOf(snap), Procs: proctree.NewSampler(procfs, 1, 0)})
}

// snapshotOf is an Options.Snapshot that gives snap.
func snapshotOf(snap supervisor.Snapshot) func(*supervisor.Snapshot) {
	return func(dst *supervisor.Snapshot) { *dst = snap }
}

// scrapeWith is scrape with every option given.
func scrapeWith(t *testing.T, opts Options) map[string]*dto.MetricFamily {
	t.Helper()
	h := Handler(opts)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("scrape: %d %s", rec.Code, rec.Body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(rec.Body)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return fams
}

// value returns the value of the sample of family name with exactly labels
// ("k=v" pairs), failing t when there is none.
func value(t *testing.T, fams map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	t.Helper()
	v, ok := lookup(fams, name, labels...)
	if !ok {
		t.Fatalf("no sample %s%v", name, labels)
	}
	return v
}

func lookup(fams map[string]*dto.MetricFamily, name string, labels ...string) (float64, bool) {
	f := fams[name]
	if f == nil {
		return 0, false
	}
	for _, m := range f.Metric {
		var got []string
		for _, l := range m.Label {
			got = append(got, l.GetName()+"="+l.GetValue())
		}
		if strings.Join(got, ",") != strings.Join(labels, ",") {
			continue
		}
		switch {
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		}
	}
	return 0, false
}

// fakeProc writes /proc/<pid>/stat with ppid, rss in pages and utime+stime in ticks.
func fakeProc(t *testing.T, procfs string, pid, ppid, rssPages, ticks int) {
	t.Helper()
	dir := filepath.Join(procfs, fmt.Sprint(pid))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	stat := fmt.Sprintf("%d (php) S %d 1 1 0 -1 0 0 0 0 0 %d 0 0 0 20 0 1 0 100 1000 %d 0\n", pid, ppid, ticks, rssPages)
	if err := os.WriteFile(filepath.Join(dir, "stat"), []byte(stat), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestCollect(t *testing.T) {
	procfs := t.TempDir()
	fakeProc(t, procfs, 100, 1, 10, 150) // the worker
	fakeProc(t, procfs, 101, 100, 5, 50) // its child
	page := float64(os.Getpagesize())
	now := time.Unix(1_800_000_000, 0)
	start := now.Add(-90 * time.Second)
	snap := supervisor.Snapshot{Taken: now, Mood: supervisor.MoodRunning, Groups: []supervisor.GroupSnapshot{
		{Name: "worker", Processes: []supervisor.ProcessSnapshot{
			{Info: process.Info{Name: "worker_0", Group: "worker", State: process.Running, PID: 100, Start: start},
				MemoryLimit: 1 << 20,
				Restarts:    supervisor.RestartCounts{supervisor.RestartCrash: 3, supervisor.RestartManual: 1}},
			{Info: process.Info{Name: "worker_1", Group: "worker", State: process.Exited, ExitStatus: 2,
				Start: start, Stop: now}},
		}, Pool: &supervisor.WorkerPool{Group: "worker", Scaling: true, Min: 1, Max: 5, Workers: 1, Busy: 1,
			Target: 4, DecidedAt: now, QueueNames: []string{"default", "mail"}, QueueOK: true, SampledAt: now,
			Sample:    supervisor.QueueSample{Ready: 7, Delayed: 2, Reserved: 1, OldestWait: 12 * time.Second},
			Decisions: supervisor.Decisions{Up: 2, Down: 1, Hold: 9}, Jobs: supervisor.JobCounts{Done: 40, Failed: 3}}},
	}}
	fams := scrapeWith(t, Options{Snapshot: snapshotOf(snap), Procs: proctree.NewSampler(procfs, 1, 0),
		EventsDropped: func() map[string]uint64 { return map[string]uint64{"gate": 7} }})
	w0 := []string{"group=worker", "name=worker_0"}
	checks := []struct {
		name   string
		labels []string
		want   float64
	}{
		{"node_supervisord_up", []string{"group=worker", "name=worker_0"}, 1},
		{"node_supervisord_up", []string{"group=worker", "name=worker_1"}, 0},
		{"node_supervisord_state", w0, 20},
		{"node_supervisord_state", []string{"group=worker", "name=worker_1"}, 100},
		{"node_supervisord_exit_status", []string{"group=worker", "name=worker_1"}, 2},
		{"node_supervisord_start_time_seconds", w0, float64(start.Unix())},
		{"drover_process_state", append(w0, "state=RUNNING"), 1},
		{"drover_process_state", []string{"group=worker", "name=worker_1", "state=EXITED"}, 1},
		{"drover_process_restarts_total", append(w0, "reason=crash"), 3},
		{"drover_process_restarts_total", append(w0, "reason=manual"), 1},
		{"drover_process_restarts_total", append(w0, "reason=memory_limit"), 0},
		{"drover_process_resident_memory_bytes", w0, 15 * page},
		{"drover_process_cpu_seconds_total", w0, 2},
		{"drover_process_uptime_seconds", w0, 90},
		{"drover_process_memory_limit_bytes", w0, 1 << 20},
		{"drover_pool_processes", []string{"group=worker"}, 1},
		{"drover_pool_busy_processes", []string{"group=worker"}, 1},
		{"drover_pool_desired_processes", []string{"group=worker"}, 4},
		{"drover_pool_min_processes", []string{"group=worker"}, 1},
		{"drover_pool_max_processes", []string{"group=worker"}, 5},
		{"drover_autoscale_decisions_total", []string{"direction=up", "group=worker"}, 2},
		{"drover_autoscale_decisions_total", []string{"direction=hold", "group=worker"}, 9},
		{"drover_jobs_processed_total", []string{"group=worker", "outcome=done", "queue=default,mail"}, 40},
		{"drover_jobs_processed_total", []string{"group=worker", "outcome=failed", "queue=default,mail"}, 3},
		{"drover_queue_reachable", []string{"queue=default,mail"}, 1},
		{"drover_queue_jobs", []string{"queue=default,mail", "state=ready"}, 7},
		{"drover_queue_jobs", []string{"queue=default,mail", "state=delayed"}, 2},
		{"drover_queue_jobs", []string{"queue=default,mail", "state=reserved"}, 1},
		{"drover_queue_oldest_job_age_seconds", []string{"queue=default,mail"}, 12},
		{"drover_events_dropped_total", []string{"subscriber=gate"}, 7},
	}
	for _, c := range checks {
		if got := value(t, fams, c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	// A process that is not up has no start time, uptime or tree.
	w1 := []string{"group=worker", "name=worker_1"}
	for _, name := range []string{"node_supervisord_start_time_seconds", "drover_process_uptime_seconds",
		"drover_process_resident_memory_bytes"} {
		if _, ok := lookup(fams, name, w1...); ok {
			t.Errorf("%s reported for a process that is not up", name)
		}
	}
	if fams["go_goroutines"] == nil || fams["process_cpu_seconds_total"] == nil {
		t.Error("no Go runtime or process metrics")
	}
	if got := fams["drover_process_restarts_total"].GetType(); got != dto.MetricType_COUNTER {
		t.Errorf("restarts type %v", got)
	}
}

func TestUnreachableQueueHasNoDepth(t *testing.T) {
	now := time.Now()
	snap := supervisor.Snapshot{Taken: now, Groups: []supervisor.GroupSnapshot{{Name: "w",
		Pool: &supervisor.WorkerPool{Scaling: true, Min: 1, Max: 2, QueueNames: []string{"default"},
			SampledAt: now, QueueOK: false, QueueError: "connection refused"}}}}
	fams := scrape(t, snap, t.TempDir())
	if v := value(t, fams, "drover_queue_reachable", "queue=default"); v != 0 {
		t.Errorf("reachable = %v", v)
	}
	if fams["drover_queue_jobs"] != nil {
		t.Error("queue depth reported from a failed sample")
	}
	// Before the first decision the pool aims at numprocs_min.
	if v := value(t, fams, "drover_pool_desired_processes", "group=w"); v != 1 {
		t.Errorf("desired = %v, want 1", v)
	}
}

func TestBadNameFailsOnlyItsSamples(t *testing.T) {
	var logged []string
	snap := supervisor.Snapshot{Taken: time.Now(), Groups: []supervisor.GroupSnapshot{
		{Name: "ok", Processes: []supervisor.ProcessSnapshot{{Info: process.Info{Name: "ok", Group: "ok"}}}},
		{Name: "bad\xff", Processes: []supervisor.ProcessSnapshot{{Info: process.Info{Name: "bad\xff", Group: "bad\xff"}}}},
	}}
	h := Handler(Options{Snapshot: snapshotOf(snap),
		Log: logFunc(func(format string, args ...any) { logged = append(logged, fmt.Sprintf(format, args...)) })})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `node_supervisord_state{group="ok",name="ok"} 0`) {
		t.Fatalf("scrape: %d\n%s", rec.Code, rec.Body)
	}
	if strings.Contains(rec.Body.String(), "bad") || len(logged) == 0 {
		t.Errorf("bad name: logged %q", logged)
	}
}

type logFunc func(format string, args ...any)

func (f logFunc) Logf(_ config.LogLevel, format string, args ...any) { f(format, args...) }

// Label values are escaped as the text format asks, and parse back whole.
func TestLabelValuesEscaped(t *testing.T) {
	group := "a\"b\\c\nd"
	snap := supervisor.Snapshot{Taken: time.Now(), Groups: []supervisor.GroupSnapshot{
		{Name: group, Processes: []supervisor.ProcessSnapshot{{Info: process.Info{Name: "w", Group: group, State: process.Fatal}}}},
	}}
	fams := scrape(t, snap, t.TempDir())
	if v := value(t, fams, "node_supervisord_state", "group="+group, "name=w"); v != float64(process.Fatal) {
		t.Errorf("state = %v", v)
	}
}

// manyProcesses is a snapshot of n stopped programs, each its own group.
func manyProcesses(n int) supervisor.Snapshot {
	snap := supervisor.Snapshot{Taken: time.Now()}
	for i := range n {
		name := fmt.Sprintf("program_%04d", i)
		snap.Groups = append(snap.Groups, supervisor.GroupSnapshot{Name: name, Processes: []supervisor.ProcessSnapshot{
			{Info: process.Info{Name: name, Group: name, State: process.Stopped}, Namespec: name}}})
	}
	return snap
}

// countingWriter is a ResponseWriter that records the size of each write.
type countingWriter struct {
	*httptest.ResponseRecorder
	writes []int
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.writes = append(w.writes, len(p))
	return w.ResponseRecorder.Write(p)
}

// A large answer goes out in bounded chunks as it is written, and parses
// whole.
func TestLargeAnswerGoesOutInChunks(t *testing.T) {
	const n = 2000
	snap := manyProcesses(n)
	w := &countingWriter{ResponseRecorder: httptest.NewRecorder()}
	Handler(Options{Snapshot: snapshotOf(snap)}).ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	if w.Code != 200 {
		t.Fatalf("scrape: %d", w.Code)
	}
	if len(w.writes) < 2 {
		t.Errorf("%d bytes in %d write(s)", w.Body.Len(), len(w.writes))
	}
	for _, size := range w.writes {
		if size > chunkSize+4096 {
			t.Errorf("a write of %d bytes, past the chunk size %d", size, chunkSize)
		}
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(w.Body)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	if got := len(fams["node_supervisord_state"].GetMetric()); got != n {
		t.Errorf("%d node_supervisord_state series, want %d", got, n)
	}
	if fams["go_goroutines"] == nil {
		t.Error("no Go runtime metrics after the chunks")
	}
}

// A panic before anything went out answers 500; after a chunk went out
// under status 200, it breaks the connection, so the scraper sees a
// failed scrape rather than a short one. The server goes on serving.
func TestPanicFailsTheScrape(t *testing.T) {
	snap := manyProcesses(2000)
	early := Handler(Options{Snapshot: func(*supervisor.Snapshot) { panic("snapshot") }})
	rec := httptest.NewRecorder()
	early.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 500 {
		t.Errorf("panic before the answer: status %d", rec.Code)
	}
	late := Handler(Options{Snapshot: snapshotOf(snap),
		EventsDropped: func() map[string]uint64 { panic("events") }})
	srv := httptest.NewServer(late)
	defer srv.Close()
	for range 2 {
		resp, err := srv.Client().Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || err == nil {
			t.Errorf("panic after a chunk: status %d, %d bytes read, error %v; want 200 and a broken body", resp.StatusCode, len(body), err)
		}
	}
}
