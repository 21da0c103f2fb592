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
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/drover/drover/internal/client"
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

// programs is the process set of the golden scripts. failer has a long
// startsecs: Python's loop judges a process before it reaps it, so on a
// loaded machine a /bin/false reaped more than startsecs after its spawn
// counts as started (success:, then restarted as an unexpected exit, again
// and again), which Drover, reaping on a pidfd, never does. quick is
// started last (priority): Python spawns every autostart program in one
// pass of its loop and reaps only after the pass, and a loaded machine
// could spend quick's 0.6 s on the forks after it, so that Python saw it
// exit before it ever judged it RUNNING.
const programs = `
[program:cat]
command=/bin/cat
[program:quick]
command=/bin/sh -c "echo hi; echo err >&2; sleep 0.6"
autorestart=false
startsecs=0
priority=1000
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
startsecs=10
[program:nofile]
command=/nonexistent/bin
autostart=false
[program:ticker]
command=/bin/sh -c "while true; do echo tick; sleep 0.1; done"
[program:named]
command=/bin/sleep 1000
autostart=false
stdout_logfile=%(here)s/named.log
`

// A server is a supervisord-compatible daemon the golden scripts run
// against: Debian's Python supervisord (the reference) and Drover's.
type server struct {
	name string // for messages
	bin  string
}

var (
	pythonServer = server{"supervisord", "supervisord"}
	// droverServer's bin is set by TestMain: drover built into a temp dir
	// and linked as supervisord, or $DROVER_CTL_TEST_DAEMON.
	droverServer = server{name: "drover"}
	servers      = []*server{&pythonServer, &droverServer}
)

// buildDrover builds ./cmd/drover into dir and links it as supervisord.
func buildDrover(dir string) (string, error) {
	bin := filepath.Join(dir, "drover")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/drover/drover/cmd/drover").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("build drover: %v\n%s", err, out)
	}
	link := filepath.Join(dir, "supervisord")
	return link, os.Symlink(bin, link)
}

// A ctlClient is a supervisorctl: Debian's or this package's.
type ctlClient struct {
	name string
	run  func(t *testing.T, stdin string, args ...string) result
}

var (
	pythonClient = ctlClient{"supervisorctl", runReal}
	droverClient = ctlClient{"drover ctl", runOurs}
)

// A pairing is one client driving its own daemon of one server.
type pairing struct {
	client ctlClient
	server *server
	d      *daemon
}

func (p pairing) String() string { return p.client.name + " -> " + p.server.name }

// startPairings starts, in parallel, one daemon for every pairing of
// {Debian's supervisorctl, this client} with {Python's supervisord,
// Drover}, all on the same configuration. The first is the reference
// (supervisorctl on supervisord); the others must behave the same.
// httpPort adds an authenticated inet server on a free port per daemon.
func startPairings(t *testing.T, extra string, http bool) []pairing {
	t.Helper()
	needRealClient(t)
	needServer(t, pythonServer)
	ps := []pairing{
		{client: pythonClient, server: &pythonServer},
		{client: droverClient, server: &pythonServer},
		{client: pythonClient, server: &droverServer},
		{client: droverClient, server: &droverServer},
	}
	var wg sync.WaitGroup
	for i := range ps {
		port := 0
		if http {
			port = freePort(t)
		}
		wg.Go(func() { ps[i].d = startDaemon(t, *ps[i].server, extra, port) })
	}
	wg.Wait()
	for _, p := range ps {
		if p.d == nil {
			t.FailNow() // startDaemon reported why
		}
	}
	return ps
}

// forEachServer runs test as a parallel subtest against a daemon of each
// server.
func forEachServer(t *testing.T, test func(t *testing.T, d *daemon)) {
	t.Helper()
	for _, s := range servers {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			needServer(t, *s)
			d := startDaemon(t, *s, "", 0)
			if d == nil {
				t.FailNow()
			}
			test(t, d)
		})
	}
}

// startDaemon runs bin -n on a fresh short temp dir with the golden
// programs plus extra config text; httpPort > 0 adds an authenticated inet
// server. It may run outside the test goroutine: it reports failures with
// t.Error and returns nil.
func startDaemon(t *testing.T, s server, extra string, httpPort int) *daemon {
	dir, err := os.MkdirTemp("", "drv")
	if err != nil {
		t.Error(err)
		return nil
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	d := &daemon{dir: dir, conf: filepath.Join(dir, "sd.conf"), sock: filepath.Join(dir, "s.sock")}
	d.url = "unix://" + d.sock
	if httpPort > 0 {
		d.http = fmt.Sprintf("http://127.0.0.1:%d", httpPort)
	}
	if err := d.write(httpPort, programs+extra); err != nil {
		t.Error(err)
		return nil
	}
	cmd := exec.Command(s.bin, "-n", "-c", d.conf)
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM} // gone with a killed test binary
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Error(err)
		return nil
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
	if err := d.settle(); err != nil {
		t.Errorf("%s: %v", s.name, err)
		return nil
	}
	return d
}

// rewrite replaces the program part of the config (for reread/update).
func (d *daemon) rewrite(t *testing.T, httpPort int, progs string) {
	t.Helper()
	if err := d.write(httpPort, progs); err != nil {
		t.Fatal(err)
	}
}

func (d *daemon) write(httpPort int, progs string) error {
	inet := ""
	if httpPort > 0 {
		inet = fmt.Sprintf("[inet_http_server]\nport=127.0.0.1:%d\nusername=user\npassword=123\n", httpPort)
	}
	text := strings.Replace(baseConfig, "{INET}", inet, 1) + progs
	return os.WriteFile(d.conf, []byte(text), 0o644)
}

// waitSettled polls until the daemon answers and no process is in a
// transitional state.
func (d *daemon) waitSettled(t *testing.T) {
	t.Helper()
	if err := d.settle(); err != nil {
		t.Fatal(err)
	}
}

// settle polls until the daemon answers and no process is in a
// transitional state (STARTING, BACKOFF, STOPPING, or RUNNING for "quick",
// which exits by itself 0.6 s after starting: long enough that starting it
// always reports "started", and that a loaded Python supervisord still ticks
// it to RUNNING ("success: quick ...") before it exits, short enough to wait
// for), nor an autostart
// process not yet started (the daemon answers before it spawns them).
func (d *daemon) settle() error {
	deadline := time.Now().Add(60 * time.Second) // a bound for a loaded machine, not a wait
	cl := client.New(d.url, "", "")
	ctx := context.Background()
	for time.Now().Before(deadline) {
		infos, err := cl.AllProcessInfo(ctx)
		configs, cerr := cl.AllConfigInfo(ctx)
		if err == nil && cerr == nil {
			autostart := map[string]bool{}
			for _, c := range configs {
				autostart[c.Group+":"+c.Name] = c.Autostart
			}
			settled := true
			for _, info := range infos {
				state, name := info.StateName, info.Name
				switch {
				case state == "STARTING", state == "BACKOFF", state == "STOPPING",
					state == "RUNNING" && name == "quick",
					state == "STOPPED" && info.Start == 0 && autostart[info.Group+":"+name]:
					settled = false
				}
			}
			if settled {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("daemon in %s did not settle", d.dir)
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

// needServer skips a test when the server's binary is missing (CI installs
// the supervisor package).
func needServer(t *testing.T, s server) {
	t.Helper()
	if _, err := exec.LookPath(s.bin); err != nil {
		t.Skipf("%s is not installed (Debian package supervisor); skipping tests against it", s.bin)
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
		t.Errorf("supervisorctl %v: %v", args, err) // may run outside the test goroutine
		code = -1
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

// substitution replaces what re matches by repl.
type substitution struct {
	re   *regexp.Regexp
	repl string
}

func substitute(s string, subs []substitution) string {
	for _, sub := range subs {
		s = sub.re.ReplaceAllString(s, sub.repl)
	}
	return s
}

var normalisers = []substitution{
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

func normalise(s string) string { return substitute(s, normalisers) }
