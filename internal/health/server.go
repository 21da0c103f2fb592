package health

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/drover/drover/internal/httpmux"
	"github.com/drover/drover/internal/supervisor"
)

// Register serves on m: /healthz without authentication (it says only that
// the daemon answers, so probes that cannot send credentials may use it),
// and /readyz and /api/pools behind the servers' authentication (they name
// programs and queues).
func Register(m *httpmux.Mux, snapshot func() supervisor.Snapshot) {
	m.HandleOpen("/healthz", http.HandlerFunc(serveHealthz))
	m.Handle("/readyz", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		serveReadyz(w, r, snapshot())
	}))
	m.Handle("/api/pools", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		servePools(w, r, snapshot())
	}))
}

func onlyGet(w http.ResponseWriter, r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		httpmux.Error(w, http.StatusMethodNotAllowed)
		return false
	}
	w.Header().Set("Cache-Control", "no-cache")
	return true
}

func serveHealthz(w http.ResponseWriter, r *http.Request) {
	if !onlyGet(w, r) {
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, "ok\n")
}

// NotReady lists, one line each, why the daemon in snap is not ready:
// it is not RUNNING (shutting down or restarting), or a process that
// readiness waits for is not RUNNING past its startsecs. Empty: ready.
func NotReady(snap supervisor.Snapshot) []string {
	var out []string
	if snap.Mood != supervisor.MoodRunning {
		out = append(out, "supervisord is "+snap.Mood.String())
	}
	for _, g := range snap.Groups {
		for _, p := range g.Processes {
			if p.ReadyRequired && !p.Ready(snap.Taken) {
				line := fmt.Sprintf("%s %s", p.Namespec, p.State)
				if p.Description != "" {
					line += " (" + p.Description + ")"
				}
				out = append(out, line)
			}
		}
	}
	return out
}

func serveReadyz(w http.ResponseWriter, r *http.Request, snap supervisor.Snapshot) {
	if !onlyGet(w, r) {
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	missing := NotReady(snap)
	if len(missing) == 0 {
		io.WriteString(w, "ready\n")
		return
	}
	w.WriteHeader(http.StatusServiceUnavailable)
	io.WriteString(w, "not ready:\n"+strings.Join(missing, "\n")+"\n")
}

// Pool is one program group in /api/pools.
type Pool struct {
	Workers  int    `json:"workers"` // live, not draining
	Busy     int    `json:"busy"`
	Min      int    `json:"min"`
	Desired  int    `json:"desired"`
	Max      int    `json:"max"`
	Scaling  bool   `json:"scaling"`
	Decision string `json:"decision,omitempty"`
	Queue    *Queue `json:"queue,omitempty"` // scaling pools once sampled
}

// Queue is a pool's queue at its last sample.
type Queue struct {
	Name              string    `json:"name"`
	Reachable         bool      `json:"reachable"`
	Ready             int       `json:"ready"`
	Delayed           int       `json:"delayed"`
	Reserved          int       `json:"reserved"`
	OldestWaitSeconds float64   `json:"oldest_wait_seconds"`
	SampledAt         time.Time `json:"sampled_at"`
	JobsDone          uint64    `json:"jobs_done"`
	JobsFailed        uint64    `json:"jobs_failed"`
}

// Pools is the /api/pools document: pools by group name, so that a
// GJSON path such as "pools.worker.queue.ready" reaches one figure.
type Pools struct {
	Pools map[string]Pool `json:"pools"`
}

// PoolsOf builds the /api/pools document from snap.
func PoolsOf(snap supervisor.Snapshot) Pools {
	out := Pools{Pools: map[string]Pool{}}
	for _, g := range snap.Groups {
		wp := g.Pool
		if wp == nil {
			continue
		}
		p := Pool{Workers: wp.Workers, Busy: wp.Busy, Min: wp.Min, Desired: wp.Desired(), Max: wp.Max,
			Scaling: wp.Scaling, Decision: wp.Decision}
		if wp.Scaling && !wp.SampledAt.IsZero() {
			p.Queue = &Queue{Name: wp.QueueName(), Reachable: wp.QueueOK,
				Ready: wp.Sample.Ready, Delayed: wp.Sample.Delayed, Reserved: wp.Sample.Reserved,
				OldestWaitSeconds: wp.Sample.OldestWait.Seconds(), SampledAt: wp.SampledAt,
				JobsDone: wp.Jobs.Done, JobsFailed: wp.Jobs.Failed}
		}
		out.Pools[g.Name] = p
	}
	return out
}

func servePools(w http.ResponseWriter, r *http.Request, snap supervisor.Snapshot) {
	if !onlyGet(w, r) {
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(PoolsOf(snap))
}
