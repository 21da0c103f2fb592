package laravel_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"os/user"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/drover/drover/tests/laravelenv"
)

const (
	// group is the how-to's program name; its processes are group:group_NN.
	group = "laravel-worker"
	// pythonSupervisord and pythonSupervisorctl are Debian's Supervisor 4.2.5.
	pythonSupervisord   = "/usr/bin/supervisord"
	pythonSupervisorctl = "/usr/bin/supervisorctl"
	// Redis keys of the default queue (fixture README, "Redis keys").
	queueKey    = "laravel_database_queues:default"
	reservedKey = "laravel_database_queues:default:reserved"
	delayedKey  = "laravel_database_queues:default:delayed"
	// pollEvery paces every wait; deadlines are generous because a slow CI
	// machine only makes the tests slower, never wrong.
	pollEvery = 100 * time.Millisecond
)

// Set by TestMain.
var (
	skipReason string // non-empty: the suite cannot run here
	appDir     string // the Laravel fixture
	droverBin  string // drover built from this repo
	reference  bool   // DROVER_LARAVEL_REFERENCE=python: the daemon is Python supervisord
)

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	reference = os.Getenv("DROVER_LARAVEL_REFERENCE") == "python"
	if signal.Ignored(os.Interrupt) {
		// Started as `go test &` from a script: SIGINT is ignored, and
		// children would inherit that, so the tests' Ctrl-C (SIGINT) to
		// Python's `supervisorctl tail -f` would do nothing. A handled
		// signal is reset to its default in the children.
		signal.Notify(make(chan os.Signal, 1), os.Interrupt)
	}
	skipReason = missingPrerequisite()
	if skipReason != "" {
		return m.Run()
	}
	var remove func()
	var err error
	droverBin, remove, err = laravelenv.DroverBin("drover-laravel-bin", os.Getenv("DROVER_BIN"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer remove()
	bin := filepath.Dir(droverBin)
	for _, name := range []string{"supervisord", "supervisorctl"} {
		if err := os.Symlink("drover", filepath.Join(bin, name)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	return m.Run()
}

// missingPrerequisite says why the suite cannot run, or "" when it can.
func missingPrerequisite() string {
	if missing := laravelenv.MissingTool(" (scripts/install-test-deps.sh installs it)", "php", "redis-server", "redis-cli"); missing != "" {
		return missing
	}
	var skip string
	if appDir, skip = laravelenv.FindApp(); skip != "" {
		return skip
	}
	if _, err := os.Stat(pythonSupervisorctl); err != nil {
		return "Debian's supervisorctl is needed as a client: " + err.Error()
	}
	if reference {
		if _, err := os.Stat(pythonSupervisord); err != nil {
			return "DROVER_LARAVEL_REFERENCE=python needs Debian's supervisord: " + err.Error()
		}
	}
	if os.Getuid() != 0 {
		return "needs root: the workers run as user=www-data"
	}
	if _, err := user.Lookup("www-data"); err != nil {
		return "needs the www-data user: " + err.Error()
	}
	return ""
}

// program is what varies in the how-to's [program:laravel-worker] section.
type program struct {
	numprocs     int
	stopwaitsecs int
	timeout      int    // queue:work --timeout
	retryAfter   int    // REDIS_QUEUE_RETRY_AFTER; 0 keeps the app's 90 s
	blockFor     int    // REDIS_QUEUE_BLOCK_FOR; 0 keeps polling every 3 s
	startsecs    int    // 0: not set (Supervisor's default, 1)
	dropInLater  bool   // the daemon starts without conf.d/laravel-worker.conf
	drover       string // further lines of the section (Drover's own options)
	daemonBin    string // the drover binary the daemon runs; "" is droverBin
}

// lab is one test's world: a redis-server, a Laravel storage folder, a
// supervisord.conf with the how-to's program, and the daemon running it.
type lab struct {
	t         *testing.T
	dir       string // conf, logs; traversable by www-data
	sock      string
	conf      string
	mainLog   string
	workerLog string
	storage   string
	jobLog    string
	www       *syscall.Credential
	prog      program

	redisPort    int
	redis        *laravelenv.Redis
	daemon       *exec.Cmd
	daemonExited chan struct{}
	daemonErr    error // the daemon's exit, once daemonExited is closed
	daemonOut    string
}

// client is one supervisorctl implementation.
type client struct {
	name string
	argv []string
}

// newLab starts redis, migrates a fresh storage, writes the config and starts
// the daemon; everything is stopped in t.Cleanup.
func newLab(t *testing.T, prog program) *lab {
	t.Helper()
	if skipReason != "" {
		t.Skip(skipReason)
	}
	dir := laravelenv.TempDir(t, "drover-laravel")
	sockDir := laravelenv.TempDir(t, "drv")
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	u, err := user.Lookup("www-data")
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	l := &lab{
		t:         t,
		dir:       dir,
		sock:      filepath.Join(sockDir, "s.sock"),
		conf:      filepath.Join(dir, "supervisord.conf"),
		mainLog:   filepath.Join(dir, "supervisord.log"),
		workerLog: filepath.Join(dir, "laravel-worker.log"),
		www:       &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)},
		prog:      prog,
		daemonOut: filepath.Join(dir, "daemon.out"),
	}
	l.storage, l.jobLog = laravelenv.NewStorage(t, dir)
	for _, p := range []string{l.storage, l.jobLog} {
		if err := os.Chown(p, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	l.redis = laravelenv.NewRedis(t, dir)
	l.redisPort = l.redis.Port
	l.startRedis()
	l.artisan("migrate", "--force")
	l.writeMainConf()
	if !prog.dropInLater {
		l.writeProgram()
	}
	t.Cleanup(l.cleanup)
	l.startDaemon()
	return l
}

// startRedis starts redis-server on l.redisPort and waits until it answers.
func (l *lab) startRedis() {
	l.t.Helper()
	l.redis.Start(l.t, pollEvery)
}

// stopRedis stops redis-server (nothing is saved) and waits for it to exit.
func (l *lab) stopRedis() { l.redis.Stop() }

// redisCLI runs a redis-cli command against this lab's redis.
func (l *lab) redisCLI(args ...string) string {
	l.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "redis-cli", append([]string{"-p", strconv.Itoa(l.redisPort)}, args...)...).Output()
	if err != nil {
		l.t.Fatalf("redis-cli %s: %v", strings.Join(args, " "), err)
	}
	return strings.TrimSpace(string(out))
}

func (l *lab) redisInt(args ...string) int {
	l.t.Helper()
	s := l.redisCLI(args...)
	n, err := strconv.Atoi(s)
	if err != nil {
		l.t.Fatalf("redis-cli %s: %q is not a number", strings.Join(args, " "), s)
	}
	return n
}

// appEnv is the environment the workers get through environment=.
func (l *lab) appEnv() []string {
	env := laravelenv.AppEnv(l.redisPort, l.jobLog, l.storage)
	if l.prog.retryAfter > 0 {
		env = append(env, "REDIS_QUEUE_RETRY_AFTER="+strconv.Itoa(l.prog.retryAfter))
	}
	if l.prog.blockFor > 0 {
		env = append(env, "REDIS_QUEUE_BLOCK_FOR="+strconv.Itoa(l.prog.blockFor))
	}
	return env
}

// artisan runs an artisan command as www-data with the workers' environment.
func (l *lab) artisan(args ...string) string {
	l.t.Helper()
	out, err := l.runArtisan(args...)
	if err != nil {
		l.t.Fatalf("artisan %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func (l *lab) runArtisan(args ...string) (string, error) {
	return laravelenv.Artisan(appDir, l.dir, l.appEnv(), l.www, args...)
}

// dispatch queues n jobs with ids <prefix>1..<prefix>n, each sleeping ms, and
// returns their ids.
func (l *lab) dispatch(prefix string, n, ms int) []string {
	l.t.Helper()
	l.artisan(laravelenv.DispatchArgs(prefix, n, ms)...)
	return laravelenv.JobIDs(prefix, n)
}

// dispatchAsync is dispatch running alongside the caller; wait reports its
// outcome on the test's goroutine.
func (l *lab) dispatchAsync(prefix string, n, ms int) (ids []string, wait func()) {
	done := make(chan error, 1)
	go func() {
		out, err := l.runArtisan(laravelenv.DispatchArgs(prefix, n, ms)...)
		if err != nil {
			err = fmt.Errorf("%w\n%s", err, out)
		}
		done <- err
	}()
	return laravelenv.JobIDs(prefix, n), func() {
		l.t.Helper()
		if err := <-done; err != nil {
			l.t.Fatalf("jobs:dispatch %s: %v", prefix, err)
		}
	}
}

// writeMainConf writes supervisord.conf, Debian's layout: programs come
// from conf.d/*.conf.
func (l *lab) writeMainConf() {
	l.t.Helper()
	if err := os.Mkdir(filepath.Join(l.dir, "conf.d"), 0o755); err != nil {
		l.t.Fatal(err)
	}
	conf := laravelenv.ConfHeader(l.sock, l.mainLog, l.dir) + `
[include]
files = ` + l.dir + `/conf.d/*.conf
`
	if err := os.WriteFile(l.conf, []byte(conf), 0o644); err != nil {
		l.t.Fatal(err)
	}
}

// writeProgram writes conf.d/laravel-worker.conf: the how-to's program,
// verbatim but for the paths, the numbers in l.prog and the environment.
func (l *lab) writeProgram() {
	l.t.Helper()
	var env []string
	for _, kv := range l.appEnv() {
		k, v, _ := strings.Cut(kv, "=")
		env = append(env, k+`="`+v+`"`) // quoted: 4.2's environment= tokenizer (spec §1.3)
	}
	extra := l.prog.drover
	if l.prog.startsecs > 0 {
		extra += fmt.Sprintf("startsecs=%d\n", l.prog.startsecs)
	}
	conf := fmt.Sprintf(`[program:laravel-worker]
process_name=%%(program_name)s_%%(process_num)02d
command=php %[1]s/artisan queue:work redis --tries=3 --timeout=%[2]d
autostart=true
autorestart=true
user=www-data
numprocs=%[3]d
redirect_stderr=true
stdout_logfile=%[4]s
stopwaitsecs=%[5]d
environment=%[6]s
%[7]s`, appDir, l.prog.timeout, l.prog.numprocs, l.workerLog, l.prog.stopwaitsecs, strings.Join(env, ","), extra)
	if err := os.WriteFile(filepath.Join(l.dir, "conf.d", "laravel-worker.conf"), []byte(conf), 0o644); err != nil {
		l.t.Fatal(err)
	}
}

// startDaemon starts supervisord (drover, or Python's as the reference) in
// the foreground and waits until it answers.
func (l *lab) startDaemon() {
	l.t.Helper()
	bin := droverBin
	if l.prog.daemonBin != "" {
		bin = l.prog.daemonBin
	}
	argv := []string{bin, "daemon", "-n", "-c", l.conf}
	if reference {
		argv = []string{pythonSupervisord, "-n", "-c", l.conf}
	}
	out, err := os.Create(l.daemonOut)
	if err != nil {
		l.t.Fatal(err)
	}
	defer out.Close()
	l.daemon = exec.Command(argv[0], argv[1:]...)
	l.daemon.Stdout, l.daemon.Stderr = out, out
	l.daemon.Dir = l.dir
	if err := l.daemon.Start(); err != nil {
		l.t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { l.daemonErr = l.daemon.Wait(); close(exited) }()
	l.daemonExited = exited
	l.waitAnswering(l.py())
}

// waitAnswering waits until the daemon answers RPCs (after a start or a
// reload; while it stops everything for a reload it faults).
func (l *lab) waitAnswering(c client) {
	l.t.Helper()
	l.waitFor("the daemon answers", 60*time.Second, func() bool {
		select {
		case <-l.daemonExited:
			data, _ := os.ReadFile(l.daemonOut)
			l.t.Fatalf("the daemon exited:\n%s", data)
		default:
		}
		_, code := l.ctl(c, "pid")
		return code == 0
	})
}

// stopDaemon sends SIGTERM to the daemon, as `systemctl stop` does: it
// stops the workers gracefully and exits. It waits for the exit (SIGKILL
// after 60 s) and returns its error, if any.
func (l *lab) stopDaemon() error {
	l.daemon.Process.Signal(syscall.SIGTERM)
	select {
	case <-l.daemonExited:
	case <-time.After(60 * time.Second):
		l.daemon.Process.Kill()
		<-l.daemonExited
		return errors.New("did not exit within 60 s of SIGTERM; killed")
	}
	return l.daemonErr
}

// cleanup stops the daemon, kills whatever of ours is left, and shows the
// logs when the test failed.
func (l *lab) cleanup() {
	if l.daemon != nil {
		if err := l.stopDaemon(); err != nil && !l.t.Failed() {
			l.t.Errorf("daemon: %v", err)
		}
	}
	if n := killProcessesWithEnv("JOB_LOG=" + l.jobLog); n > 0 {
		l.t.Errorf("%d process(es) of this test outlived the daemon; killed", n)
	}
	if l.t.Failed() {
		for _, f := range []string{l.daemonOut, l.mainLog, l.workerLog, l.jobLog} {
			data, _ := os.ReadFile(f)
			l.t.Logf("--- %s (last 6000 bytes)\n%s", f, tail(data, 6000))
		}
	}
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// killProcessesWithEnv SIGKILLs every process whose environment holds kv,
// and says how many there were.
func killProcessesWithEnv(kv string) int {
	entries, _ := os.ReadDir("/proc")
	n := 0
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		env, err := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		if err != nil {
			continue
		}
		for _, v := range bytes.Split(env, []byte{0}) {
			if string(v) == kv {
				if syscall.Kill(pid, syscall.SIGKILL) == nil {
					n++
				}
				break
			}
		}
	}
	return n
}

// drv is drover's supervisorctl; py is Debian's. Both drive every daemon.
func (l *lab) drv() client {
	return client{"drover ctl", []string{droverBin, "ctl", "-c", l.conf}}
}

func (l *lab) py() client {
	return client{"python supervisorctl", []string{pythonSupervisorctl, "-c", l.conf}}
}

// ctl runs one supervisorctl command and returns its output and exit status.
func (l *lab) ctl(c client, args ...string) (string, int) {
	l.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	argv := append(append([]string{}, c.argv...), args...)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return string(out), 0
	case errors.As(err, &exit) && ctx.Err() == nil:
		return string(out), exit.ExitCode()
	default:
		l.t.Fatalf("%s %s: %v\n%s", c.name, strings.Join(args, " "), err, out)
		return "", 0
	}
}

// mustCtl is ctl that fails the test unless the exit status is want.
func (l *lab) mustCtl(c client, want int, args ...string) string {
	l.t.Helper()
	out, code := l.ctl(c, args...)
	if code != want {
		l.t.Fatalf("%s %s: exit status %d, want %d; output:\n%s", c.name, strings.Join(args, " "), code, want, out)
	}
	return out
}

// procStatus is one line of `supervisorctl status`.
type procStatus struct {
	state string
	pid   int    // when RUNNING/STOPPING/STARTING with a pid
	desc  string // the rest of the line
}

var (
	statusLineRe = regexp.MustCompile(`^(\S+)\s+(\S+)\s*(.*?)\s*$`) // name, state, description
	pidRe        = regexp.MustCompile(`^pid (\d+),`)
)

// status parses `supervisorctl status` into name → status.
func (l *lab) status(c client) map[string]procStatus {
	l.t.Helper()
	out, code := l.ctl(c, "status")
	if code != 0 && code != 3 {
		l.t.Fatalf("%s status: exit status %d:\n%s", c.name, code, out)
	}
	st := map[string]procStatus{}
	for _, line := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		m := statusLineRe.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		ps := procStatus{state: m[2], desc: m[3]}
		if m := pidRe.FindStringSubmatch(ps.desc); m != nil {
			ps.pid, _ = strconv.Atoi(m[1])
		}
		st[m[1]] = ps
	}
	return st
}

// procName is the full name of worker i.
func procName(i int) string { return fmt.Sprintf("%s:%s_%02d", group, group, i) }

func procNames(n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = procName(i)
	}
	return names
}

// waitRunning waits until the group has exactly n processes, all RUNNING,
// and returns their pids by name.
func (l *lab) waitRunning(c client, n int) map[string]int {
	l.t.Helper()
	var pids map[string]int
	l.waitFor(fmt.Sprintf("%d workers RUNNING", n), 60*time.Second, func() bool {
		st := l.status(c)
		if len(st) != n {
			return false
		}
		pids = map[string]int{}
		for _, name := range procNames(n) {
			if st[name].state != "RUNNING" {
				return false
			}
			pids[name] = st[name].pid
		}
		return true
	})
	return pids
}

// waitFor polls cond until it holds, failing the test after deadline.
func (l *lab) waitFor(what string, deadline time.Duration, cond func() bool) {
	l.t.Helper()
	laravelenv.WaitFor(l.t, what, deadline, pollEvery, cond)
}

// jobRecord is the job log: `done <id> pid=<pid>` and `fail <id> ...` lines.
type jobRecord struct {
	done  map[string][]int // id → pid of each done line
	fails []string
}

func (l *lab) jobs() jobRecord {
	l.t.Helper()
	r := l.readJobLog()
	return jobRecord{done: r.Done, fails: r.Fails}
}

// readJobLog reads the job log; a line that is neither done nor fail fails
// the test.
func (l *lab) readJobLog() laravelenv.JobLog {
	l.t.Helper()
	r := laravelenv.ReadJobLog(l.t, l.jobLog)
	if len(r.Unexpected) > 0 {
		l.t.Fatalf("job log: unexpected line %q", r.Unexpected[0])
	}
	return r
}

// doneCount is the number of done lines.
func (r jobRecord) doneCount() int {
	n := 0
	for _, pids := range r.done {
		n += len(pids)
	}
	return n
}

// waitAllDone waits until every id has a done line.
func (l *lab) waitAllDone(ids []string, deadline time.Duration) jobRecord {
	l.t.Helper()
	r := laravelenv.WaitAllDone(l.t, l.readJobLog, ids, deadline, pollEvery)
	return jobRecord{done: r.Done, fails: r.Fails}
}

// checkExactlyOnce checks that the job log has exactly one done line for each
// id and nothing else, that no job failed, and that Redis holds no job any
// more (a job still reserved would be run again after retry_after).
func (l *lab) checkExactlyOnce(r jobRecord, ids []string) {
	l.t.Helper()
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
		if n := len(r.done[id]); n != 1 {
			l.t.Errorf("job %s: %d done lines, want exactly 1 (pids %v)", id, n, r.done[id])
		}
	}
	for id := range r.done {
		if !want[id] {
			l.t.Errorf("job log: done line for a job never dispatched: %s", id)
		}
	}
	for _, f := range r.fails {
		l.t.Errorf("job log: %s", f)
	}
	for _, key := range []string{reservedKey, delayedKey} {
		if n := l.redisInt("ZCARD", key); n != 0 {
			l.t.Errorf("redis %s holds %d jobs after all were done", key, n)
		}
	}
	if n := l.redisInt("LLEN", queueKey); n != 0 {
		l.t.Errorf("redis %s holds %d jobs after all were done", queueKey, n)
	}
}

// readFrom returns the file's content from offset on.
func readFrom(t *testing.T, path string, offset int64) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(data)) < offset {
		t.Fatalf("%s shrank below %d bytes", path, offset)
	}
	return string(data[offset:])
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// sortedLines splits output into its lines, sorted: group commands report in
// completion order.
func sortedLines(out string) []string {
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	sort.Strings(lines)
	return lines
}

// expectLines checks that out, sorted by line, is want (in any order).
func expectLines(t *testing.T, what, out string, want ...string) {
	t.Helper()
	sort.Strings(want)
	if got := sortedLines(out); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s: got\n%s\nwant (any order)\n%s", what, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// eachLine formats one line per process: "<name>: <suffix>".
func eachLine(n int, suffix string) []string {
	var lines []string
	for _, name := range procNames(n) {
		lines = append(lines, name+": "+suffix)
	}
	return lines
}

// follower is a running `supervisorctl tail -f` whose output is collected.
type follower struct {
	cmd    *exec.Cmd
	mu     sync.Mutex
	out    bytes.Buffer
	exited chan struct{}
}

// Write collects the follower's output (stdout and stderr).
func (f *follower) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.out.Write(p)
}

func (f *follower) output() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.out.String()
}

// follow starts argv, collecting its output; it is killed in t.Cleanup if
// the test has not ended it.
func (l *lab) follow(argv []string) *follower {
	l.t.Helper()
	f := &follower{cmd: exec.Command(argv[0], argv[1:]...), exited: make(chan struct{})}
	f.cmd.Stdout, f.cmd.Stderr = f, f
	if err := f.cmd.Start(); err != nil {
		l.t.Fatal(err)
	}
	go func() { f.cmd.Wait(); close(f.exited) }()
	l.t.Cleanup(func() {
		f.cmd.Process.Kill()
		<-f.exited
	})
	return f
}
