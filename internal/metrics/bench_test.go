package metrics

import (
	"fmt"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/drover/drover/internal/process"
	"github.com/drover/drover/internal/supervisor"
)

// BenchmarkScrape is one scrape of 500 RUNNING programs with this
// machine's real process table.
func BenchmarkScrape(b *testing.B) {
	now := time.Now()
	var groups []supervisor.GroupSnapshot
	for i := range 500 {
		name := fmt.Sprintf("p%04d", i)
		groups = append(groups, supervisor.GroupSnapshot{Name: name,
			Processes: []supervisor.ProcessSnapshot{{Info: process.Info{Name: name, Group: name,
				State: process.Running, PID: os.Getpid(), Start: now}}},
			Pool: &supervisor.WorkerPool{Group: name, Min: 1, Max: 1, Workers: 1}})
	}
	snap := supervisor.Snapshot{Taken: now, Groups: groups}
	h := Handler(Options{Snapshot: func() supervisor.Snapshot { return snap }})
	for b.Loop() {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("GET", "/metrics", nil)
		req.Header.Set("Accept-Encoding", "gzip")
		h.ServeHTTP(rec, req)
	}
}
