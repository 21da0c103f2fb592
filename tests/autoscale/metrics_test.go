package autoscale

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// scrape GETs /metrics from the daemon over its unix socket and parses it
// with Prometheus's own text parser.
func (l *lab) scrape() map[string]*dto.MetricFamily {
	l.t.Helper()
	var body bytes.Buffer
	if err := l.rpc.Stream(context.Background(), "/metrics", &body); err != nil {
		l.t.Fatalf("GET /metrics: %v", err)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(&body)
	if err != nil {
		l.t.Fatalf("parse /metrics: %v", err)
	}
	return fams
}

// sample returns the value of the sample of name whose labels are exactly
// labels ("k=v", sorted by name), and whether there is one.
func sample(fams map[string]*dto.MetricFamily, name string, labels ...string) (float64, bool) {
	for _, m := range fams[name].GetMetric() {
		var got []string
		for _, lp := range m.GetLabel() {
			got = append(got, lp.GetName()+"="+lp.GetValue())
		}
		if strings.Join(got, ",") != strings.Join(labels, ",") {
			continue
		}
		if m.Counter != nil {
			return m.Counter.GetValue(), true
		}
		return m.Gauge.GetValue(), true
	}
	return 0, false
}

// /metrics from the real binary, with a real Redis and the Laravel app:
// a queued burst shows in drover_queue_jobs, the job lines count the jobs,
// a crash and a manual restart count as restarts, node_exporter's names
// carry Supervisor's state codes.
func TestMetricsScrape(t *testing.T) {
	l := newLab(t)
	l.writeConf("--sleep=1", fmt.Sprintf(`numprocs=1
numprocs_max=2
scale_queue=laravel-redis://127.0.0.1:%d/0?queues=default
scale_interval=1
scale_cooldown=60
autostart=false
startsecs=1`, l.redisPort))
	l.startDaemon()

	// The worker is stopped, so the pool holds (paused) and the queue
	// keeps exactly the burst; the scaler still samples it.
	ids := l.dispatch("m", 25, 50)
	value := func(fams map[string]*dto.MetricFamily, name string, labels ...string) float64 {
		t.Helper()
		v, ok := sample(fams, name, labels...)
		if !ok {
			t.Fatalf("no sample %s%v", name, labels)
		}
		return v
	}
	ready := []string{"queue=default", "state=ready"}
	l.waitFor("drover_queue_jobs to show the burst", 30*time.Second, func() bool {
		v, _ := sample(l.scrape(), "drover_queue_jobs", ready...)
		return v == 25
	})
	fams := l.scrape()
	w := []string{"group=worker", "name=worker_00"}
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"drover_queue_jobs", []string{"queue=default", "state=reserved"}, 0},
		{"drover_queue_jobs", []string{"queue=default", "state=delayed"}, 0},
		{"drover_queue_reachable", []string{"queue=default"}, 1},
		{"drover_pool_min_processes", []string{"group=worker"}, 1},
		{"drover_pool_max_processes", []string{"group=worker"}, 2},
		{"drover_pool_processes", []string{"group=worker"}, 0},
		{"node_supervisord_up", w, 0},
		{"node_supervisord_state", w, 0},
		{"drover_process_state", append(w, "state=STOPPED"), 1},
		{"drover_jobs_processed_total", []string{"group=worker", "outcome=done", "queue=default"}, 0},
	} {
		if got := value(fams, c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	if age := value(fams, "drover_queue_oldest_job_age_seconds", "queue=default"); age < 0 {
		t.Errorf("oldest job age %v", age)
	}

	if out, err := l.ctl("start", "worker:worker_00"); err != nil {
		t.Fatalf("start: %v\n%s", err, out)
	}
	l.waitAllDone(ids, 2*time.Minute)
	done := []string{"group=worker", "outcome=done", "queue=default"}
	l.waitFor("drover_jobs_processed_total to count the burst", 30*time.Second, func() bool {
		fams := l.scrape()
		d, _ := sample(fams, "drover_jobs_processed_total", done...)
		r, _ := sample(fams, "drover_queue_jobs", ready...)
		return d == 25 && r == 0
	})

	info := l.mustCall("supervisor.getProcessInfo", "worker:worker_00").(map[string]any)
	fams = l.scrape()
	if got := value(fams, "node_supervisord_state", w...); got != 20 {
		t.Errorf("node_supervisord_state = %v, want 20 (RUNNING)", got)
	}
	if got := value(fams, "node_supervisord_start_time_seconds", w...); got != float64(info["start"].(int)) {
		t.Errorf("start time %v, getProcessInfo says %v", got, info["start"])
	}
	if got := value(fams, "drover_process_resident_memory_bytes", w...); got < 1<<20 {
		t.Errorf("a PHP worker's tree holds %v bytes", got)
	}
	if got := value(fams, "drover_jobs_processed_total", "group=worker", "outcome=failed", "queue=default"); got != 0 {
		t.Errorf("failed jobs %v", got)
	}

	// A crash: the worker is killed from outside and autorestart brings it back.
	pid := info["pid"].(int)
	syscall.Kill(pid, syscall.SIGKILL)
	crash := append(w, "reason=crash")
	l.waitFor("a crash restart", 30*time.Second, func() bool {
		v, _ := sample(l.scrape(), "drover_process_restarts_total", crash...)
		return v == 1
	})
	// A manual restart through supervisorctl.
	l.waitFor("the worker RUNNING again", 30*time.Second, func() bool { return l.states()["worker_00"] == "RUNNING" })
	if out, err := l.ctl("restart", "worker:worker_00"); err != nil {
		t.Fatalf("restart: %v\n%s", err, out)
	}
	fams = l.scrape()
	for reason, want := range map[string]float64{"crash": 1, "manual": 1, "memory_limit": 0, "rolling": 0} {
		if got := value(fams, "drover_process_restarts_total", append(w, "reason="+reason)...); got != want {
			t.Errorf("restarts{reason=%s} = %v, want %v", reason, got, want)
		}
	}
}
