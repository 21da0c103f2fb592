package ctl

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// daemon is a real Python supervisord started for a test.
type daemon struct {
	dir  string
	conf string
	sock string
	url  string // unix:// URL
	http string // http:// URL (basic auth user/123) or ""
}

const baseConfig = `[unix_http_server]
file=%(here)s/s.sock
{INET}
[supervisord]
logfile=%(here)s/main.log
pidfile=%(here)s/sd.pid
childlogdir=%(here)s
[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface
[supervisorctl]
serverurl=unix://%(here)s/s.sock
`

// programs is the process set of the golden scripts.
const programs = `
[program:cat]
command=/bin/cat
[program:quick]
command=/bin/sh -c "echo hi; echo err >&2; sleep 0.2"
autorestart=false
startsecs=0
[program:manual]
command=/bin/sleep 1000
autostart=false
[group:grp]
programs=a,b
[program:a]
command=/bin/sleep 1000
[program:b]
command=/bin/sleep 1000
[program:worker]
command=/bin/sleep 1000
numprocs=2
process_name=%(program_name)s_%(process_num)02d
[program:failer]
command=/bin/false
startretries=0
[program:nofile]
command=/nonexistent/bin
autostart=false
[program:ticker]
command=/bin/sh -c "while true; do echo tick; sleep 0.1; done"
`

// startDaemon runs Python's supervisord -n on a fresh short temp dir with
// extra config text; httpPort > 0 adds an authenticated inet server.
func startDaemon(t *testing.T, extra string, httpPort int) *daemon {
	t.Helper()
	return startDaemonBinary(t, "supervisord", extra, httpPort)
}

// startServerUnderTest starts the daemon this client is tested against:
// Python's supervisord, or the supervisord-compatible binary named by
// $DROVER_CTL_TEST_DAEMON (e.g. drover linked as supervisord), so that the
// golden scripts also check Drover's daemon against Supervisor's.
func startServerUnderTest(t *testing.T, extra string, httpPort int) *daemon {
	t.Helper()
	if bin := os.Getenv("DROVER_CTL_TEST_DAEMON"); bin != "" {
		return startDaemonBinary(t, bin, extra, httpPort)
	}
	return startDaemon(t, extra, httpPort)
}

func startDaemonBinary(t *testing.T, bin, extra string, httpPort int) *daemon {
	t.Helper()
	if _, err := exec.LookPath(bin); err != nil {
		t.Skip("supervisord (Debian package supervisor) is not installed; skipping tests against the real daemon")
	}
	dir, err := os.MkdirTemp("", "drv")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	d := &daemon{dir: dir, conf: filepath.Join(dir, "sd.conf"), sock: filepath.Join(dir, "s.sock")}
	d.url = "unix://" + d.sock
	if httpPort > 0 {
		d.http = fmt.Sprintf("http://127.0.0.1:%d", httpPort)
	}
	d.rewrite(t, httpPort, programs+extra)
	cmd := exec.Command(bin, "-n", "-c", d.conf)
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
	})
	d.waitSettled(t)
	return d
}

// rewrite replaces the program part of the config (for reread/update).
func (d *daemon) rewrite(t *testing.T, httpPort int, progs string) {
	t.Helper()
	inet := ""
	if httpPort > 0 {
		inet = fmt.Sprintf("[inet_http_server]\nport=127.0.0.1:%d\nusername=user\npassword=123\n", httpPort)
	}
	text := strings.Replace(baseConfig, "{INET}", inet, 1) + progs
	if err := os.WriteFile(d.conf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// waitSettled polls until the daemon answers and no process is in a
// transitional state (STARTING, BACKOFF, STOPPING, or RUNNING for "quick",
// which exits by itself 0.2 s after starting: long enough that starting it
// always reports "started", short enough to wait for).
func (d *daemon) waitSettled(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	cl := newClient(d.url, "", "")
	for time.Now().Before(deadline) {
		v, err := cl.call(context.Background(), "supervisor.getAllProcessInfo")
		if err == nil {
			settled := true
			for _, info := range asStructs(v) {
				switch state := asString(info["statename"]); {
				case state == "STARTING", state == "BACKOFF", state == "STOPPING",
					state == "RUNNING" && asString(info["name"]) == "quick":
					settled = false
				}
			}
			if settled {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("supervisord in %s did not settle", d.dir)
}

// result is one command's observable behaviour.
type result struct {
	stdout, stderr string
	code           int
}

// needRealClient skips tests that compare with Debian's supervisorctl when
// it is not installed (CI installs the supervisor package).
func needRealClient(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("supervisorctl"); err != nil {
		t.Skip("supervisorctl (Debian package supervisor) is not installed; skipping comparison")
	}
}

// runReal runs Debian's supervisorctl.
func runReal(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "supervisorctl", args...)
	var out, errb bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = strings.NewReader(stdin), &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("supervisorctl %v: %v", args, err)
	}
	return result{out.String(), errb.String(), code}
}

// runOurs runs this package's client in-process.
func runOurs(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	code := Run(ctx, Invocation{Prog: "/usr/bin/supervisorctl", Args: args,
		Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb, Interrupts: make(chan os.Signal)})
	return result{out.String(), errb.String(), code}
}

var normalisers = []struct {
	re   *regexp.Regexp
	repl string
}{
	{regexp.MustCompile(`pid \d+, uptime [0-9:]+(?: days?, [0-9:]+)?`), "pid PID, uptime UP"},
	{regexp.MustCompile(`(?m)^[1-9]\d*$`), "PID"},
	{regexp.MustCompile(`[A-Z][a-z]{2} \d\d \d\d:\d\d [AP]M`), "DATE"},
	{regexp.MustCompile(`/tmp/drv\d+`), "DIR"},
	{regexp.MustCompile(`127\.0\.0\.1:\d+`), "127.0.0.1:PORT"},
	// Tracebacks from Python's standard library name the interpreter's
	// version and line numbers, which vary between distributions.
	{regexp.MustCompile(`/usr/lib/python3\.\d+/(\S+) line: \d+`), "/usr/lib/python3.X/$1 line: N"},
}

func (r result) normalised() result {
	return result{normalise(r.stdout), normalise(r.stderr), r.code}
}

func normalise(s string) string {
	for _, n := range normalisers {
		s = n.re.ReplaceAllString(s, n.repl)
	}
	return s
}
