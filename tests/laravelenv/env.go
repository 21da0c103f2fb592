package laravelenv

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// FindApp locates the Laravel fixture: $DROVER_LARAVEL_APP, else the shared
// fixture beside the repo. It returns the absolute directory, or why the
// suite cannot run.
func FindApp() (dir, skipReason string) {
	dir = os.Getenv("DROVER_LARAVEL_APP")
	if dir == "" {
		dir = "../../../shared/fixtures/laravel-app"
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err.Error()
	}
	if _, err := os.Stat(filepath.Join(abs, "artisan")); err != nil {
		return "", "no Laravel fixture (set DROVER_LARAVEL_APP): " + err.Error()
	}
	return abs, ""
}

// MissingTool names the first of tools not on $PATH as "<tool> not found"
// plus hint, or returns "" when all are there.
func MissingTool(hint string, tools ...string) string {
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			return tool + " not found" + hint
		}
	}
	return ""
}

// DroverBin makes a temporary directory (os.MkdirTemp's pattern) holding
// drover: a symlink to prebuilt when it is not "", else built from this repo,
// statically. It returns the binary's path and a func removing the directory.
func DroverBin(pattern, prebuilt string) (path string, remove func(), err error) {
	dir, err := os.MkdirTemp("", pattern)
	if err != nil {
		return "", nil, err
	}
	path = filepath.Join(dir, "drover")
	if prebuilt != "" {
		if prebuilt, err = filepath.Abs(prebuilt); err == nil {
			err = os.Symlink(prebuilt, path)
		}
	} else {
		build := exec.Command("go", "build", "-o", path, "github.com/drover/drover/cmd/drover")
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, berr := build.CombinedOutput(); berr != nil {
			err = fmt.Errorf("build drover: %v\n%s", berr, out)
		}
	}
	if err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	return path, func() { os.RemoveAll(dir) }, nil
}

// TempDir makes a directory with os.MkdirTemp (short: unix socket paths
// must be) and removes it in t.Cleanup.
func TempDir(t testing.TB, pattern string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", pattern)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// NewStorage makes dir/storage, the app's storage folder, with an empty job
// log storage/jobs.log in it, and returns both paths.
func NewStorage(t testing.TB, dir string) (storage, jobLog string) {
	t.Helper()
	storage = filepath.Join(dir, "storage")
	jobLog = filepath.Join(storage, "jobs.log")
	if err := os.Mkdir(storage, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(jobLog, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	return storage, jobLog
}

// WaitFor polls cond every poll until it holds, failing t after timeout.
func WaitFor(t testing.TB, what string, timeout, poll time.Duration, cond func() bool) {
	t.Helper()
	end := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(end) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(poll)
	}
}

// Redis is a redis-server on a free loopback port, saving nothing; it can be
// stopped and started again on the same port.
type Redis struct {
	Port int
	// ConfFile, when set, is a config file given first on the command
	// line (a Sentinel's, which it rewrites); Args follow the defaults.
	ConfFile string
	Args     []string
	dir      string
	cmd      *exec.Cmd
	exited   chan struct{}
}

// NewRedis picks a free port for a redis-server working in dir and stops it
// in t.Cleanup; Start starts it.
func NewRedis(t testing.TB, dir string) *Redis {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &Redis{Port: ln.Addr().(*net.TCPAddr).Port, dir: dir}
	ln.Close()
	t.Cleanup(r.Stop)
	return r
}

// Start starts redis-server and waits (30 s, polling every poll) until it
// answers PING (or asks for its password); it fails t if redis-server exits meanwhile.
func (r *Redis) Start(t testing.TB, poll time.Duration) {
	t.Helper()
	var args []string
	if r.ConfFile != "" {
		args = append(args, r.ConfFile)
	}
	args = append(args, "--port", strconv.Itoa(r.Port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", r.dir)
	cmd := exec.Command("redis-server", append(args, r.Args...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM} // gone with a killed test binary
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	r.cmd, r.exited = cmd, exited
	WaitFor(t, "redis answers PING", 30*time.Second, poll, func() bool {
		select {
		case <-exited:
			t.Fatalf("redis-server on port %d exited at start", r.Port)
		default:
		}
		c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(r.Port))
		if err != nil {
			return false
		}
		defer c.Close()
		fmt.Fprint(c, "PING\r\n")
		line, _ := bufio.NewReader(c).ReadString('\n')
		return strings.HasPrefix(line, "+PONG") || strings.HasPrefix(line, "-NOAUTH") // up, with a password
	})
}

// Stop stops redis-server, if it runs (SIGKILL after 30 s), and waits for
// it to exit.
func (r *Redis) Stop() {
	if r.cmd == nil {
		return
	}
	r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.exited:
	case <-time.After(30 * time.Second):
		r.cmd.Process.Kill()
		<-r.exited
	}
	r.cmd = nil
}

// AppEnv is the environment the app needs: its Redis port, the job log the
// fixture's jobs append to, and its storage folder.
func AppEnv(redisPort int, jobLog, storage string) []string {
	return []string{
		"REDIS_PORT=" + strconv.Itoa(redisPort),
		"JOB_LOG=" + jobLog,
		"LARAVEL_STORAGE_PATH=" + storage,
	}
}

// ConfHeader is the supervisord.conf sections every suite's config starts
// with: the unix socket sock, the daemon's logfile, and dir for the pidfile
// and child logs.
func ConfHeader(sock, logfile, dir string) string {
	return fmt.Sprintf(`[unix_http_server]
file=%[1]s

[supervisord]
logfile=%[2]s
pidfile=%[3]s/supervisord.pid
childlogdir=%[3]s

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix://%[1]s
`, sock, logfile, dir)
}

// Artisan runs `php <appDir>/artisan args...` in workDir with env added,
// as cred when it is not nil, and returns its combined output. It is
// killed after 2 minutes.
func Artisan(appDir, workDir string, env []string, cred *syscall.Credential, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "php", append([]string{filepath.Join(appDir, "artisan")}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Dir = workDir
	if cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// DispatchArgs are the artisan arguments that queue n jobs with ids
// <prefix>1..<prefix>n, each sleeping ms.
func DispatchArgs(prefix string, n, ms int) []string {
	return []string{"jobs:dispatch", strconv.Itoa(n), "--sleep-ms=" + strconv.Itoa(ms), "--id-prefix=" + prefix}
}

// JobIDs are the ids DispatchArgs(prefix, n, ...) gives its jobs.
func JobIDs(prefix string, n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = prefix + strconv.Itoa(i+1)
	}
	return ids
}

// Daemon is `drover daemon -n` running in its own process group.
type Daemon struct {
	cmd   *exec.Cmd
	ended chan struct{}
}

// StartDaemon starts `bin daemon -n -c conf` with its output in
// dir/daemon.out, and stops it in t.Cleanup; when t has failed by then, the
// main log and that output go to the test log.
func StartDaemon(t testing.TB, bin, conf, dir, mainLog string) *Daemon {
	t.Helper()
	outPath := filepath.Join(dir, "daemon.out")
	out, err := os.Create(outPath)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	d := &Daemon{cmd: exec.Command(bin, "daemon", "-n", "-c", conf), ended: make(chan struct{})}
	d.cmd.Stdout, d.cmd.Stderr = out, out
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM} // gone with a killed test binary
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { d.cmd.Wait(); close(d.ended) }()
	t.Cleanup(func() {
		d.stop(t)
		if t.Failed() {
			for _, f := range []string{mainLog, outPath} {
				data, _ := os.ReadFile(f)
				t.Logf("%s:\n%s", f, data)
			}
		}
	})
	return d
}

// stop shuts the daemon down (it stops the workers gracefully) and kills
// whatever is left of its process group.
func (d *Daemon) stop(t testing.TB) {
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.ended:
	case <-time.After(90 * time.Second):
		t.Errorf("daemon did not stop")
	}
	syscall.Kill(-d.cmd.Process.Pid, syscall.SIGKILL)
}

// RunMain runs m with *bin set to a drover binary built for the suite
// (DroverBin with pattern), or, when skip says why the suite cannot run,
// without building one (the tests then skip with that reason).
func RunMain(m *testing.M, pattern, skip string, bin *string) int {
	if skip != "" {
		return m.Run()
	}
	path, remove, err := DroverBin(pattern, "")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer remove()
	*bin = path
	return m.Run()
}
