package autoscale

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/drover/drover/internal/xmlrpc"
)

// pollEvery paces every wait; deadlines are generous (a slow machine only
// makes the tests slower, never wrong).
const pollEvery = 50 * time.Millisecond

var (
	skipReason string
	appDir     string
	droverBin  string
)

func TestMain(m *testing.M) { os.Exit(runMain(m)) }

func runMain(m *testing.M) int {
	skipReason = missingPrerequisite()
	if skipReason != "" {
		return m.Run()
	}
	bin, err := os.MkdirTemp("", "drover-autoscale-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(bin)
	droverBin = filepath.Join(bin, "drover")
	build := exec.Command("go", "build", "-o", droverBin, "github.com/drover/drover/cmd/drover")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build drover: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

func missingPrerequisite() string {
	for _, tool := range []string{"php", "redis-server"} {
		if _, err := exec.LookPath(tool); err != nil {
			return tool + " not found"
		}
	}
	appDir = os.Getenv("DROVER_LARAVEL_APP")
	if appDir == "" {
		appDir = "../../../shared/fixtures/laravel-app"
	}
	abs, err := filepath.Abs(appDir)
	if err != nil {
		return err.Error()
	}
	appDir = abs
	if _, err := os.Stat(filepath.Join(appDir, "artisan")); err != nil {
		return "no Laravel fixture (set DROVER_LARAVEL_APP): " + err.Error()
	}
	return ""
}

// lab is one test's world: redis, a Laravel storage folder, the config
// and the daemon.
type lab struct {
	t          *testing.T
	dir        string
	sock       string
	conf       string
	mainLog    string
	storage    string
	jobLog     string
	redisPort  int
	redis      *exec.Cmd
	redisEnded chan struct{}
	daemon     *exec.Cmd
	daemonEnd  chan struct{}
	rpc        *http.Client
	// extraSections are appended to the config writeConf writes.
	extraSections string
}

// newLab starts redis and migrates a fresh storage; start writes the
// config and starts the daemon. Everything stops in t.Cleanup.
func newLab(t *testing.T) *lab {
	t.Helper()
	if skipReason != "" {
		t.Skip(skipReason)
	}
	dir, err := os.MkdirTemp("", "drv")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	l := &lab{t: t, dir: dir, sock: filepath.Join(dir, "s.sock"), conf: filepath.Join(dir, "supervisord.conf"),
		mainLog: filepath.Join(dir, "supervisord.log"), storage: filepath.Join(dir, "storage"),
		jobLog: filepath.Join(dir, "storage", "jobs.log")}
	if err := os.Mkdir(l.storage, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(l.jobLog, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	l.rpc = &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", l.sock)
	}}}
	l.startRedis()
	l.artisan("migrate", "--force")
	return l
}

// startRedis starts redis-server on l.redisPort (a free port the first
// time) and waits until it answers.
func (l *lab) startRedis() {
	if l.redisPort == 0 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			l.t.Fatal(err)
		}
		l.redisPort = ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		l.t.Cleanup(l.stopRedis)
	}
	l.redis = exec.Command("redis-server", "--port", strconv.Itoa(l.redisPort), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", l.dir)
	if err := l.redis.Start(); err != nil {
		l.t.Fatal(err)
	}
	l.redisEnded = make(chan struct{})
	go func(cmd *exec.Cmd, ended chan struct{}) { cmd.Wait(); close(ended) }(l.redis, l.redisEnded)
	l.waitFor("redis to answer", 30*time.Second, func() bool {
		c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(l.redisPort))
		if err != nil {
			return false
		}
		defer c.Close()
		fmt.Fprint(c, "PING\r\n")
		line, _ := bufio.NewReader(c).ReadString('\n')
		return strings.HasPrefix(line, "+PONG")
	})
}

// stopRedis stops redis-server, if it runs, and waits for it to exit.
func (l *lab) stopRedis() {
	if l.redis == nil {
		return
	}
	l.redis.Process.Signal(syscall.SIGTERM)
	select {
	case <-l.redisEnded:
	case <-time.After(30 * time.Second):
		l.redis.Process.Kill()
		<-l.redisEnded
	}
	l.redis = nil
}

func (l *lab) appEnv() []string {
	return []string{"REDIS_PORT=" + strconv.Itoa(l.redisPort), "JOB_LOG=" + l.jobLog, "LARAVEL_STORAGE_PATH=" + l.storage}
}

func (l *lab) artisan(args ...string) {
	l.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "php", append([]string{filepath.Join(appDir, "artisan")}, args...)...)
	cmd.Env = append(os.Environ(), l.appEnv()...)
	cmd.Dir = l.dir
	if out, err := cmd.CombinedOutput(); err != nil {
		l.t.Fatalf("artisan %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// dispatch queues n jobs <prefix>1..<prefix>n of ms each and returns the ids.
func (l *lab) dispatch(prefix string, n, ms int) []string {
	l.t.Helper()
	l.artisan("jobs:dispatch", strconv.Itoa(n), "--sleep-ms="+strconv.Itoa(ms), "--id-prefix="+prefix)
	ids := make([]string, n)
	for i := range ids {
		ids[i] = prefix + strconv.Itoa(i+1)
	}
	return ids
}

// writeConf writes the config with one [program:worker] whose extra lines
// (numprocs, pool options, worker flags) the test gives.
func (l *lab) writeConf(workerFlags, programLines string) {
	l.t.Helper()
	var env []string
	for _, kv := range l.appEnv() {
		k, v, _ := strings.Cut(kv, "=")
		env = append(env, k+`="`+v+`"`)
	}
	conf := fmt.Sprintf(`[unix_http_server]
file=%[1]s

[supervisord]
logfile=%[2]s
pidfile=%[3]s/supervisord.pid
childlogdir=%[3]s

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix://%[1]s

[program:worker]
process_name=%%(program_name)s_%%(process_num)02d
command=php %[4]s/artisan queue:work redis --tries=3 --timeout=60 %[5]s
autorestart=true
stopwaitsecs=60
redirect_stderr=true
stdout_logfile=%[3]s/worker.log
environment=%[6]s
%[7]s

%[8]s`, l.sock, l.mainLog, l.dir, appDir, workerFlags, strings.Join(env, ","), programLines, l.extraSections)
	if err := os.WriteFile(l.conf, []byte(conf), 0o644); err != nil {
		l.t.Fatal(err)
	}
}

func (l *lab) startDaemon() {
	l.t.Helper()
	out, err := os.Create(filepath.Join(l.dir, "daemon.out"))
	if err != nil {
		l.t.Fatal(err)
	}
	l.daemon = exec.Command(droverBin, "daemon", "-n", "-c", l.conf)
	l.daemon.Stdout, l.daemon.Stderr = out, out
	l.daemon.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := l.daemon.Start(); err != nil {
		l.t.Fatal(err)
	}
	out.Close()
	l.daemonEnd = make(chan struct{})
	go func() { l.daemon.Wait(); close(l.daemonEnd) }()
	l.t.Cleanup(l.stopDaemon)
	l.waitFor("the daemon to answer", 30*time.Second, func() bool {
		_, err := l.call("supervisor.getState")
		return err == nil
	})
}

// stopDaemon shuts the daemon down (it stops the workers gracefully) and
// kills whatever is left of its process group.
func (l *lab) stopDaemon() {
	l.daemon.Process.Signal(syscall.SIGTERM)
	select {
	case <-l.daemonEnd:
	case <-time.After(90 * time.Second):
		l.t.Errorf("daemon did not stop")
	}
	syscall.Kill(-l.daemon.Process.Pid, syscall.SIGKILL)
	if l.t.Failed() {
		for _, f := range []string{l.mainLog, filepath.Join(l.dir, "daemon.out")} {
			data, _ := os.ReadFile(f)
			l.t.Logf("%s:\n%s", f, data)
		}
	}
}

// call makes one XML-RPC call to the daemon.
func (l *lab) call(method string, params ...any) (any, error) {
	var body bytes.Buffer
	if err := xmlrpc.EncodeCall(&body, method, params...); err != nil {
		return nil, err
	}
	resp, err := l.rpc.Post("http://localhost/RPC2", "text/xml", &body)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return xmlrpc.DecodeResponse(resp.Body)
}

func (l *lab) mustCall(method string, params ...any) any {
	l.t.Helper()
	v, err := l.call(method, params...)
	if err != nil {
		l.t.Fatalf("%s: %v", method, err)
	}
	return v
}

// states returns the state name of every process of the daemon by name.
func (l *lab) states() map[string]string {
	l.t.Helper()
	out := map[string]string{}
	for _, info := range l.mustCall("supervisor.getAllProcessInfo").([]any) {
		m := info.(map[string]any)
		out[m["name"].(string)] = m["statename"].(string)
	}
	return out
}

func count(states map[string]string, want string) int {
	n := 0
	for _, s := range states {
		if s == want {
			n++
		}
	}
	return n
}

// pool returns the drover.getPools entry of group worker.
func (l *lab) pool() map[string]any {
	l.t.Helper()
	for _, p := range l.mustCall("drover.getPools").([]any) {
		if m := p.(map[string]any); m["group"] == "worker" {
			return m
		}
	}
	l.t.Fatal("drover.getPools has no worker pool")
	return nil
}

// ctl runs `drover ctl -c conf args...` and returns its output.
func (l *lab) ctl(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, droverBin, append([]string{"ctl", "-c", l.conf}, args...)...).CombinedOutput()
	return string(out), err
}

func (l *lab) waitFor(what string, timeout time.Duration, cond func() bool) {
	l.t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			l.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(pollEvery)
	}
}

// jobRuns parses the job log: the pids that ran each job, and failures.
type jobRuns struct {
	done  map[string][]string // job id → pids that completed it
	fails []string
}

func (l *lab) jobRuns() jobRuns {
	l.t.Helper()
	data, err := os.ReadFile(l.jobLog)
	if err != nil {
		l.t.Fatal(err)
	}
	r := jobRuns{done: map[string][]string{}}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) == 3 && f[0] == "done":
			r.done[f[1]] = append(r.done[f[1]], strings.TrimPrefix(f[2], "pid="))
		case len(f) > 0:
			r.fails = append(r.fails, line)
		}
	}
	return r
}

// waitAllDone waits until every id has a done line, then checks each ran
// exactly once and nothing failed; it returns the pids that ran jobs.
func (l *lab) waitAllDone(ids []string, timeout time.Duration) map[string]int {
	l.t.Helper()
	l.waitFor(fmt.Sprintf("%d jobs to be done", len(ids)), timeout, func() bool {
		r := l.jobRuns()
		for _, id := range ids {
			if len(r.done[id]) == 0 {
				return false
			}
		}
		return true
	})
	r := l.jobRuns()
	pids := map[string]int{}
	for _, id := range ids {
		if len(r.done[id]) != 1 {
			l.t.Errorf("job %s ran %d times (pids %v)", id, len(r.done[id]), r.done[id])
		}
		for _, pid := range r.done[id] {
			pids[pid]++
		}
	}
	if len(r.fails) > 0 {
		l.t.Errorf("job log has failures: %q", r.fails)
	}
	if len(r.done) != len(ids) {
		l.t.Errorf("job log has %d jobs, want %d", len(r.done), len(ids))
	}
	return pids
}
