package metrics

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/drover/drover/internal/process"
	"github.com/drover/drover/internal/proctree"
	"github.com/drover/drover/internal/supervisor"
)

// BenchmarkScrape is one scrape of 500 RUNNING programs, each a real
// `sleep` on this machine, so that the process table holds them too:
// cold reads the daemon's process tree for every scrape (its stat files
// kept open from the first scrape on), shared takes a recent reading (as while
// a dashboard is open, or scrapes come within the sampler's age).
func BenchmarkScrape(b *testing.B) {
	const n = 500
	now := time.Now()
	var groups []supervisor.GroupSnapshot
	for i := range n {
		cmd := exec.Command("sleep", "3600")
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() {
			cmd.Process.Kill()
			cmd.Wait()
		})
		name := fmt.Sprintf("p%04d", i)
		groups = append(groups, supervisor.GroupSnapshot{Name: name,
			Processes: []supervisor.ProcessSnapshot{{Info: process.Info{Name: name, Group: name,
				State: process.Running, PID: cmd.Process.Pid, Start: now}, Namespec: name}},
			Pool: &supervisor.WorkerPool{Group: name, Min: 1, Max: 1, Workers: 1}})
	}
	snap := supervisor.Snapshot{Taken: now, Groups: groups}
	for _, bc := range []struct {
		name   string
		maxAge time.Duration
	}{{"cold", 0}, {"shared", time.Hour}} {
		b.Run(bc.name, func(b *testing.B) {
			procs := proctree.NewSampler("", os.Getpid(), bc.maxAge)
			defer procs.Close()
			h := Handler(Options{Snapshot: snapshotOf(snap), Procs: procs})
			c0 := cpuTime(b)
			for b.Loop() {
				w := &discard{header: http.Header{}}
				h.ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
				if w.code != 200 {
					b.Fatal(w.code)
				}
			}
			b.ReportMetric(float64(cpuTime(b)-c0)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
		})
	}
}

// discard is a ResponseWriter that keeps only the status: what the
// scraper does with the answer is not the daemon's cost.
type discard struct {
	header http.Header
	code   int
}

func (d *discard) Header() http.Header  { return d.header }
func (d *discard) WriteHeader(code int) { d.code = code }
func (d *discard) Write(p []byte) (int, error) {
	if d.code == 0 {
		d.code = 200
	}
	return len(p), nil
}

// cpuTime is the CPU time this process has used, every thread counted:
// on a busy machine a scrape's wall time says little of its cost.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
