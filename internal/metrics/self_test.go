package metrics

import (
	"bytes"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// parseExposition parses what write writes with Prometheus's own parser.
func parseExposition(t *testing.T, write func(e *exposition)) map[string]*dto.MetricFamily {
	t.Helper()
	var out bytes.Buffer
	e := exposition{out: &out}
	write(&e)
	e.flush()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(&out)
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, out.String())
	}
	return fams
}

// The daemon's process metrics, read from a procfs of known content.
func TestSelfStats(t *testing.T) {
	procfs := t.TempDir()
	write := func(name, content string) {
		t.Helper()
		path := filepath.Join(procfs, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// utime 250 and stime 50 ticks, start 12345 ticks after boot, vsize
	// 1 GB, rss 300 pages; the command name holds a ") ".
	write("self/stat", "42 (dro) ver) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 7 8 20 0 9 0 12345 1000000000 300 18446744073709551615\n")
	write("stat", "cpu  1 2 3 4\nbtime 1800000000\nprocesses 9\n")
	write("self/net/netstat", "TcpExt: A B\nTcpExt: 1 2\nIpExt: InNoRoutes InOctets OutOctets\nIpExt: 0 1234 5678\n")
	for _, fd := range []string{"0", "1", "2", "7"} {
		write("self/fd/"+fd, "")
	}
	fams := parseExposition(t, func(e *exposition) { newSelfStats(procfs).write(e) })
	page := float64(os.Getpagesize())
	var files, as syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &files); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Getrlimit(syscall.RLIMIT_AS, &as); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]float64{
		"process_cpu_seconds_total":            3,
		"process_virtual_memory_bytes":         1e9,
		"process_resident_memory_bytes":        300 * page,
		"process_start_time_seconds":           1800000000 + 123.45,
		"process_open_fds":                     3, // the listing's own descriptor left out
		"process_max_fds":                      float64(files.Cur),
		"process_virtual_memory_max_bytes":     float64(as.Cur),
		"process_network_receive_bytes_total":  1234,
		"process_network_transmit_bytes_total": 5678,
	} {
		if got := value(t, fams, name); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
}

// What procfs does not have is left out, not reported as 0.
func TestSelfStatsMissing(t *testing.T) {
	fams := parseExposition(t, func(e *exposition) { newSelfStats(t.TempDir()).write(e) })
	for _, name := range []string{"process_cpu_seconds_total", "process_start_time_seconds", "process_open_fds",
		"process_network_receive_bytes_total"} {
		if fams[name] != nil {
			t.Errorf("%s reported without procfs", name)
		}
	}
	if fams["process_max_fds"] == nil {
		t.Error("process_max_fds, which comes from getrlimit, left out")
	}
}

// On Linux's procfs the count of open descriptors follows the daemon's.
func TestSelfOpenFDs(t *testing.T) {
	self := newSelfStats("/proc")
	before, ok := self.openFDs()
	if !ok {
		t.Fatal("no count of open descriptors")
	}
	const opened = 50
	for range opened {
		f, err := os.Open(os.DevNull)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
	}
	if after, _ := self.openFDs(); after != before+opened {
		t.Errorf("%d open descriptors, then %d after opening %d more", before, after, opened)
	}
	// Listing the directory counts the same, on any kernel.
	listed := &selfStats{procfs: "/proc", buf: make([]byte, 16<<10)}
	byList, _ := listed.openFDs()
	bySize, _ := self.openFDs()
	if byList != bySize {
		t.Errorf("%d open descriptors listed, %d by the directory's size", byList, bySize)
	}
}
