package main

import (
	"bytes"
	"context"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestStats(t *testing.T) {
	tests := []struct {
		name        string
		xs          []float64
		median, p95 float64
		min, max    float64
	}{
		{"one", []float64{7}, 7, 7, 7, 7},
		{"odd unsorted", []float64{3, 1, 2}, 2, 3, 1, 3},
		{"even takes the middle mean", []float64{4, 1, 3, 2}, 2.5, 4, 1, 4},
		{"p95 of twenty is the 19th", []float64{20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1}, 10.5, 19, 1, 20},
		{"p95 of 21 is the 20th", []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 100}, 11, 20, 1, 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			orig := append([]float64(nil), tt.xs...)
			s := summarize(tt.xs)
			if s.Median != tt.median || s.Min != tt.min || s.Max != tt.max {
				t.Errorf("summarize = %+v, want median %v min %v max %v", s, tt.median, tt.min, tt.max)
			}
			if got := percentile(tt.xs, 95); got != tt.p95 {
				t.Errorf("percentile 95 = %v, want %v", got, tt.p95)
			}
			if !slicesEqual(tt.xs, orig) {
				t.Errorf("input reordered: %v", tt.xs)
			}
		})
	}
	if !math.IsNaN(median(nil)) || !math.IsNaN(percentile(nil, 95)) {
		t.Error("empty input should give NaN")
	}
}

func slicesEqual(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestConfigRender(t *testing.T) {
	dir := t.TempDir()
	cfg := benchConfig{Dir: dir, Programs: append(sleepers(2, "/bin/sleep", 1, ""),
		program{Name: "writer", Command: "/x write-pattern -bytes 4096", Startsecs: 0, Autorestart: "false",
			StdoutLogfile: filepath.Join(dir, "log", "w.log"), StdoutMaxbytes: "50MB", StdoutBackups: 12})}
	if err := cfg.write(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(cfg.file())
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	for _, want := range []string{
		"[unix_http_server]\nfile=" + dir + "/s.sock\n",
		"[supervisorctl]\nserverurl=unix://" + dir + "/s.sock\n",
		"supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n",
		"nodaemon=true\n",
		"minfds=1024\n",
		"childlogdir=" + dir + "/child\n",
		"\n[program:p0000]\ncommand=/bin/sleep 1000000\nautostart=true\nstartsecs=1\n",
		"\n[program:p0001]\n",
		"\n[program:writer]\ncommand=/x write-pattern -bytes 4096\nautostart=false\nstartsecs=0\nautorestart=false\n" +
			"stdout_logfile=" + dir + "/log/w.log\nstdout_logfile_maxbytes=50MB\nstdout_logfile_backups=12\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("config lacks %q:\n%s", want, text)
		}
	}
	if strings.Count(text, "[program:") != 3 {
		t.Errorf("want 3 programs:\n%s", text)
	}
	for _, d := range []string{cfg.logDir(), cfg.childDir()} {
		if fi, err := os.Stat(d); err != nil || !fi.IsDir() {
			t.Errorf("directory %s not created: %v", d, err)
		}
	}
	// Many programs need more descriptors than Supervisor's default.
	big := benchConfig{Dir: dir, Programs: sleepers(500, "/bin/sleep", 1, "")}.render()
	if !strings.Contains(big, "minfds=4256\n") || !strings.Contains(big, "[program:p0499]") {
		t.Error("500-program config lacks minfds=4256 or p0499")
	}
}

func TestPatternRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	const n = 3*patternChunk + 5*patternRecord
	if err := writePattern(&buf, n); err != nil {
		t.Fatal(err)
	}
	stream := buf.Bytes()
	tests := []struct {
		name  string
		data  []byte
		total int64
		bad   int64
	}{
		{"intact", stream, n, 0},
		{"truncated mid-record", stream[:n-100], n - 100, 1},
		{"one record dropped shifts the rest", append(append([]byte{}, stream[:patternRecord]...), stream[2*patternRecord:]...), n - patternRecord, n/patternRecord - 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			total, bad, err := verifyPattern(bytes.NewReader(tt.data))
			if err != nil || total != tt.total || bad != tt.bad {
				t.Errorf("verifyPattern = %d, %d, %v; want %d, %d", total, bad, err, tt.total, tt.bad)
			}
		})
	}
	if err := writePattern(&buf, 100); err == nil {
		t.Error("writePattern accepted a size that is not whole records")
	}
}

func TestRotatedFilesOrder(t *testing.T) {
	dir := t.TempDir()
	base := filepath.Join(dir, "w.log")
	var buf bytes.Buffer
	if err := writePattern(&buf, 12*patternRecord); err != nil {
		t.Fatal(err)
	}
	// Oldest bytes in the highest-numbered backup, as Supervisor rotates.
	parts := map[string][]byte{base + ".10": buf.Next(3 * patternRecord), base + ".2": buf.Next(4 * patternRecord),
		base + ".1": buf.Next(4 * patternRecord), base: buf.Next(patternRecord)}
	for p, b := range parts {
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(base+".bak", []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	total, bad, err := verifyRotated(base)
	if err != nil || total != 12*patternRecord || bad != 0 {
		t.Errorf("verifyRotated = %d, %d, %v", total, bad, err)
	}
	if got := sizeOnDisk(base); got != 12*patternRecord {
		t.Errorf("sizeOnDisk = %d", got)
	}
}

func TestChattyLine(t *testing.T) {
	for _, i := range []int{0, 9999, 1234567890} {
		l := chattyLine("p0042", i)
		if len(l) != chattyLineLen || l[len(l)-1] != '\n' || bytes.Count(l, []byte{'\n'}) != 1 {
			t.Errorf("chattyLine(%d) = %q", i, l)
		}
	}
}

func TestParseFlags(t *testing.T) {
	o, err := parseFlags([]string{"--quick", "--scenarios=crash,log"})
	if err != nil || o.Runs != 1 || len(o.Scenarios) != 2 || o.sizes().LogMiB != quickSizes.LogMiB {
		t.Errorf("quick: %+v, %v", o, err)
	}
	o, err = parseFlags(nil)
	if err != nil || o.Runs != 3 || len(o.Scenarios) != len(scenarioGroups) || o.sizes().IdleSecs != 20 {
		t.Errorf("defaults: %+v, %v", o, err)
	}
	if _, err := parseFlags([]string{"--scenarios=nope"}); err == nil {
		t.Error("unknown scenario accepted")
	}
}

func TestGoal(t *testing.T) {
	tests := []struct {
		g    goal
		v    float64
		met  bool
		text string
	}{
		{goal{"<=", 0.2}, 0.2, true, "≤ 0.2"},
		{goal{"<=", 0.2}, 0.21, false, "≤ 0.2"},
		{goal{">=", 80}, 79.9, false, "≥ 80"},
		{goal{"==", 0}, 0, true, "= 0"},
		{goal{"==", 0}, 1, false, "= 0"},
	}
	for _, tt := range tests {
		if got := tt.g.met(tt.v); got != tt.met {
			t.Errorf("%v met(%v) = %v", tt.g, tt.v, got)
		}
		if got := tt.g.String(); got != tt.text {
			t.Errorf("String() = %q, want %q", got, tt.text)
		}
	}
}

// TestChildWatcherFindsNewChild runs a real child: the watcher must report
// it, and only it, as a new child of this process.
func TestChildWatcherFindsNewChild(t *testing.T) {
	before, err := lastPID()
	if err != nil {
		t.Skip("no ns_last_pid:", err)
	}
	w := newChildWatcher(os.Getpid(), before)
	cmd := exec.Command("sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		kids, err := w.poll()
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range kids {
			if k != cmd.Process.Pid {
				t.Errorf("reported %d, which is not the child %d", k, cmd.Process.Pid)
			}
		}
		if len(kids) > 0 {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("child %d not found", cmd.Process.Pid)
}

func TestPeerFlags(t *testing.T) {
	o, err := parseFlags([]string{"--peer", "gc=/x/supervisord -c {conf}", "--peer-ctl", "gc=/x/supervisord ctl -c {conf}", "--peer", "other=/y -n -c {conf}"})
	if err != nil {
		t.Fatal(err)
	}
	want := []peer{
		{Name: "gc", Start: []string{"/x/supervisord", "-c", "{conf}"}, Ctl: []string{"/x/supervisord", "ctl", "-c", "{conf}"}},
		{Name: "other", Start: []string{"/y", "-n", "-c", "{conf}"}},
	}
	if len(o.Peers) != 2 || !reflect.DeepEqual(o.Peers, want) {
		t.Errorf("peers = %+v, want %+v", o.Peers, want)
	}
	if got := withConf(o.Peers[0].Ctl, "/t/s.conf"); !reflect.DeepEqual(got, []string{"/x/supervisord", "ctl", "-c", "/t/s.conf"}) {
		t.Errorf("withConf = %q", got)
	}
	for _, bad := range [][]string{
		{"--peer", "gc"},                                     // no command
		{"--peer", "gc=/x -c conf"},                          // no {conf}
		{"--peer", "drover=/x -c {conf}"},                    // a taken name
		{"--peer", "a/b=/x -c {conf}"},                       // a name that is no directory name
		{"--peer-ctl", "gc=/x ctl -c {conf}"},                // ctl of no peer
		{"--peer", "gc=/x {conf}", "--peer", "gc=/y {conf}"}, // twice
	} {
		if _, err := parseFlags(bad); err == nil {
			t.Errorf("parseFlags(%q) accepted", bad)
		}
	}
}

func TestSlope(t *testing.T) {
	// Peak RSS in KB: 10 MB base, 12 KB a program, with noise that cancels.
	xs := []float64{100, 500, 2000}
	ys := []float64{10240 + 1200 + 50, 10240 + 6000 - 100, 10240 + 24000 + 50}
	if got := slope(xs, ys); math.Abs(got-12) > 0.1 {
		t.Errorf("slope = %v, want about 12", got)
	}
}

func TestOverFloor(t *testing.T) {
	if got := overFloor(3*time.Second, time.Second, 2*time.Second); got != 1 {
		t.Errorf("overFloor = %v, want 1", got)
	}
}

func TestSpawnFloorReapsItsChildren(t *testing.T) {
	if err := becomeSubreaper(); err != nil {
		t.Skip(err)
	}
	d, err := spawnFloor(context.Background(), []string{"/bin/sleep", "1000"}, 3)
	if err != nil || d <= 0 {
		t.Fatalf("spawnFloor = %v, %v", d, err)
	}
	if kids := descendants(os.Getpid()); len(kids) != 0 {
		t.Errorf("children left behind: %v", kids)
	}
}
