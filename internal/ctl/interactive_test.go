package ctl

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// compareRuns runs args with stdin through every pairing, {URL} in args
// replaced by what target gives for the pairing's daemon, and compares the
// results with the reference's.
func compareRuns(t *testing.T, ps []pairing, target func(d *daemon) string, stdin string, args []string, withStderr bool) {
	t.Helper()
	results := runAll(t, ps, stdin, func(p pairing) []string {
		url := target(p.d)
		out := make([]string, len(args))
		for i, arg := range args {
			out[i] = strings.ReplaceAll(arg, "{URL}", url)
		}
		return out
	})
	if !withStderr {
		for i := range results {
			results[i].stderr = ""
		}
	}
	reportDifferences(t, fmt.Sprintf("%q <<< %q", args, stdin), ps, results)
}

func socketURL(d *daemon) string  { return d.url }
func httpURL(d *daemon) string    { return d.http }
func configFile(d *daemon) string { return d.conf }

func TestGoldenShellOnPipe(t *testing.T) {
	t.Parallel()
	ps := startPairings(t, "", false)
	for _, stdin := range []string{
		"status cat\nfoo\n\nhelp help\nstart\nversion\nquit\n",
		"status cat\n",
		"reload\nn\nshutdown\nno\n",
		"shutdown\n",
		"  status   cat  \n?status\nexit\nstatus\n",
	} {
		compareRuns(t, ps, socketURL, stdin, []string{"-s", "{URL}"}, true)
		compareRuns(t, ps, socketURL, stdin, []string{"-s", "{URL}", "-i"}, true)
	}
	compareRuns(t, ps, socketURL, "n\n", []string{"-s", "{URL}", "-i", "reload"}, true)
	compareRuns(t, ps, socketURL, "", []string{"-s", "{URL}", "-i", "shutdown"}, true)
}

func TestGoldenAuth(t *testing.T) {
	t.Parallel()
	ps := startPairings(t, "", true)
	for _, c := range []struct {
		stdin      string
		args       []string
		withStderr bool
	}{
		{"", []string{"-s", "{URL}", "status", "cat"}, true},
		{"", []string{"-s", "{URL}", "-u", "user", "-p", "bad", "reread"}, true},
		{"", []string{"-s", "{URL}", "-u", "user", "status", "cat"}, true},
		{"", []string{"-s", "{URL}", "-u", "user", "-p", "123", "status", "cat"}, true},
		{"", []string{"-s", "{URL}", "-u", "user", "-p", "123", "tail", "-f", "nosuch"}, true},
		{"user\n123\nstatus cat\n", []string{"-s", "{URL}"}, false},
		{"user\nbad\n", []string{"-s", "{URL}"}, false},
		{"user\n", []string{"-s", "{URL}"}, false},
	} {
		compareRuns(t, ps, httpURL, c.stdin, c.args, c.withStderr)
	}
	// Credentials and prompt from a [supervisorctl] section.
	for _, password := range []string{"123", "bad"} {
		ctlConf := func(d *daemon) string {
			path := filepath.Join(d.dir, "ctl-"+password+".conf")
			text := "[supervisorctl]\nserverurl=" + d.http + "\nusername=user\npassword=" + password + "\nprompt=drv\n"
			if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
				t.Error(err)
			}
			return path
		}
		compareRuns(t, ps, ctlConf, "", []string{"-c", "{URL}", "status", "cat"}, true)
		compareRuns(t, ps, ctlConf, "version\n", []string{"-c", "{URL}"}, false)
	}
}

func TestGoldenConfigFile(t *testing.T) {
	t.Parallel()
	ps := startPairings(t, "", false)
	compareRuns(t, ps, configFile, "", []string{"-c", "{URL}", "status", "cat"}, true)
	noSection := filepath.Join(ps[0].d.dir, "nosection.conf")
	os.WriteFile(noSection, []byte("[supervisord]\n"), 0o644)
	compareRuns(t, ps, func(*daemon) string { return noSection }, "", []string{"-c", "{URL}", "status"}, true)
	compareRuns(t, ps, socketURL, "", []string{"-c", "/nonexistent/x.conf", "-s", "{URL}", "status"}, true)
	compareRuns(t, ps, socketURL, "", []string{"-s", "{URL}", "tail", "-f", "nosuch"}, true)
	compareRuns(t, ps, socketURL, "", []string{"-s", "http://127.0.0.1:1", "open", "{URL}"}, true)
	compareRuns(t, ps, socketURL, "open {URL}\nstatus cat\n", []string{"-s", "http://127.0.0.1:1"}, true)
}

// watchedBuffer is an io.Writer whose content can be awaited.
type watchedBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{}
}

func newWatchedBuffer() *watchedBuffer { return &watchedBuffer{changed: make(chan struct{}, 1)} }

func (w *watchedBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	select {
	case w.changed <- struct{}{}:
	default:
	}
	return w.buf.Write(p)
}

func (w *watchedBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// waitFor blocks until the output contains s (bounded).
func (w *watchedBuffer) waitFor(t *testing.T, s string) {
	t.Helper()
	w.waitForAfter(t, "", s)
}

// waitForAfter blocks until the output contains s after the last occurrence
// of marker (bounded): e.g. the prompt drawn after a command's output, which
// is when the line editor reads the terminal again.
func (w *watchedBuffer) waitForAfter(t *testing.T, marker, s string) {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		out := w.String()
		if marker != "" {
			i := strings.LastIndex(out, marker)
			if i < 0 {
				out = ""
			} else {
				out = out[i+len(marker):]
			}
		}
		if strings.Contains(out, s) {
			return
		}
		select {
		case <-w.changed:
		case <-timeout:
			t.Fatalf("output never contained %q after %q; got:\n%s", s, marker, w.String())
		}
	}
}

// startOurs runs the client in the background; the returned function
// waits for its exit status (bounded).
func startOurs(t *testing.T, stdin io.Reader, out, errOut io.Writer, interrupts chan os.Signal, args ...string) func() int {
	t.Helper()
	done := make(chan int, 1)
	go func() {
		done <- Run(context.Background(), Invocation{Prog: "supervisorctl", Args: args,
			Stdin: stdin, Stdout: out, Stderr: errOut, Interrupts: interrupts})
	}()
	return func() int {
		select {
		case code := <-done:
			return code
		case <-time.After(30 * time.Second):
			t.Fatal("client did not finish")
			return -1
		}
	}
}

func TestTailFollowStopsOnInterrupt(t *testing.T) {
	t.Parallel()
	forEachServer(t, testTailFollowStopsOnInterrupt)
}

func testTailFollowStopsOnInterrupt(t *testing.T, d *daemon) {
	for _, args := range [][]string{{"tail", "-f", "ticker"}, {"maintail", "-f"}, {"tail", "-f", "ticker", "stdout"}} {
		out := newWatchedBuffer()
		interrupts := make(chan os.Signal, 1)
		wait := startOurs(t, strings.NewReader(""), out, io.Discard, interrupts, append([]string{"-s", d.url}, args...)...)
		out.waitFor(t, "==> Press Ctrl-C to exit <==\n")
		if args[0] == "tail" {
			out.waitFor(t, "tick\n")
		}
		interrupts <- os.Interrupt
		if code := wait(); code != 0 {
			t.Errorf("%v: exit %d, want 0", args, code)
		}
		if !strings.HasSuffix(out.String(), "\n\n") && !strings.HasSuffix(out.String(), "\n") {
			t.Errorf("%v: output does not end with the empty line: %q", args, out.String())
		}
	}
}

func TestFgForwardsInput(t *testing.T) {
	t.Parallel()
	forEachServer(t, testFgForwardsInput)
}

func testFgForwardsInput(t *testing.T, d *daemon) {
	for _, end := range []string{"eof", "interrupt"} {
		out := newWatchedBuffer()
		in, feed := io.Pipe()
		interrupts := make(chan os.Signal, 1)
		wait := startOurs(t, in, out, io.Discard, interrupts, "-s", d.url, "fg", "cat")
		out.waitFor(t, "==> Press Ctrl-C to exit <==\n")
		io.WriteString(feed, "hello from fg\n")
		out.waitFor(t, "hello from fg\n")
		if end == "eof" {
			feed.Close()
		} else {
			interrupts <- os.Interrupt
		}
		out.waitFor(t, "Exiting foreground\n")
		if code := wait(); code != 0 {
			t.Errorf("fg ended by %s: exit %d, want 0", end, code)
		}
		feed.Close()
	}
}

func TestJSONOutput(t *testing.T) {
	t.Parallel()
	forEachServer(t, testJSONOutput)
}

func testJSONOutput(t *testing.T, d *daemon) {
	r := runOurs(t, "", "-s", d.url, "status", "--json", "cat", "manual", "nosuch")
	var status []StatusJSON
	if err := json.Unmarshal([]byte(r.stdout), &status); err != nil {
		t.Fatalf("status --json: %v\n%s", err, r.stdout)
	}
	if len(status) != 2 || status[0].Namespec != "cat" || status[0].Statename != "RUNNING" || status[0].PID == 0 ||
		status[1].Namespec != "manual" || status[1].State != 0 || status[1].Description != "Not started" {
		t.Errorf("status --json = %+v", status)
	}
	if r.code != 3 || r.stderr != "nosuch: ERROR (no such process)\n" {
		t.Errorf("status --json exit %d stderr %q, want 3 and the unknown name on stderr", r.code, r.stderr)
	}
	r = runOurs(t, "", "-s", d.url, "avail", "--json")
	var avail []AvailJSON
	if err := json.Unmarshal([]byte(r.stdout), &avail); err != nil || r.code != 0 {
		t.Fatalf("avail --json: %v exit %d\n%s", err, r.code, r.stdout)
	}
	want := AvailJSON{Namespec: "grp:a", Group: "grp", Name: "a", InUse: true, Autostart: true, GroupPriority: 999, ProcessPriority: 999}
	if len(avail) == 0 || avail[0] != want {
		t.Errorf("avail --json first entry = %+v, want %+v", avail, want)
	}
	plain := runOurs(t, "", "-s", d.url, "status", "cat")
	if strings.Contains(plain.stdout, "{") {
		t.Errorf("plain status changed: %q", plain.stdout)
	}
}
