package autoscale

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/drover/drover/internal/client"
	"github.com/drover/drover/tests/laravelenv"
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
	return laravelenv.RunMain(m, "drover-autoscale-bin", skipReason, &droverBin)
}

func missingPrerequisite() string {
	if missing := laravelenv.MissingTool("", "php", "redis-server"); missing != "" {
		return missing
	}
	var skip string
	appDir, skip = laravelenv.FindApp()
	return skip
}

// lab is one test's world: redis, a Laravel storage folder, the config
// and the daemon.
type lab struct {
	t         *testing.T
	dir       string
	sock      string
	conf      string
	mainLog   string
	storage   string
	jobLog    string
	redisPort int
	redis     *laravelenv.Redis
	rpc       *client.Client
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
	dir := laravelenv.TempDir(t, "drv")
	l := &lab{t: t, dir: dir, sock: filepath.Join(dir, "s.sock"), conf: filepath.Join(dir, "supervisord.conf"),
		mainLog: filepath.Join(dir, "supervisord.log")}
	l.storage, l.jobLog = laravelenv.NewStorage(t, dir)
	l.rpc = client.New("unix://"+l.sock, "", "")
	l.startRedis()
	l.artisan("migrate", "--force")
	return l
}

// startRedis starts redis-server on l.redisPort (a free port the first
// time) and waits until it answers.
func (l *lab) startRedis() {
	l.t.Helper()
	if l.redis == nil {
		l.redis = laravelenv.NewRedis(l.t, l.dir)
		l.redisPort = l.redis.Port
	}
	l.redis.Start(l.t, pollEvery)
}

// stopRedis stops redis-server, if it runs, and waits for it to exit.
func (l *lab) stopRedis() { l.redis.Stop() }

func (l *lab) appEnv() []string {
	return laravelenv.AppEnv(l.redisPort, l.jobLog, l.storage)
}

func (l *lab) artisan(args ...string) {
	l.t.Helper()
	if out, err := laravelenv.Artisan(appDir, l.dir, l.appEnv(), nil, args...); err != nil {
		l.t.Fatalf("artisan %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// dispatch queues n jobs <prefix>1..<prefix>n of ms each and returns the ids.
func (l *lab) dispatch(prefix string, n, ms int) []string {
	l.t.Helper()
	l.artisan(laravelenv.DispatchArgs(prefix, n, ms)...)
	return laravelenv.JobIDs(prefix, n)
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
	conf := laravelenv.ConfHeader(l.sock, l.mainLog, l.dir) + fmt.Sprintf(`
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
	laravelenv.StartDaemon(l.t, droverBin, l.conf, l.dir, l.mainLog)
	l.waitFor("the daemon to answer", 30*time.Second, func() bool {
		_, err := l.call("supervisor.getState")
		return err == nil
	})
}

// call makes one XML-RPC call to the daemon.
func (l *lab) call(method string, params ...any) (any, error) {
	return l.rpc.Call(context.Background(), method, params...)
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
	laravelenv.WaitFor(l.t, what, timeout, pollEvery, cond)
}

// jobRuns reads the job log; any line but a done line is a failure.
func (l *lab) jobRuns() laravelenv.JobLog {
	l.t.Helper()
	r := laravelenv.ReadJobLog(l.t, l.jobLog)
	r.Fails = append(r.Fails, r.Unexpected...)
	return r
}

// waitAllDone waits until every id has a done line, then checks each ran
// exactly once and nothing failed; it returns the pids that ran jobs.
func (l *lab) waitAllDone(ids []string, timeout time.Duration) map[int]int {
	l.t.Helper()
	laravelenv.WaitAllDone(l.t, l.jobRuns, ids, timeout, pollEvery)
	r := l.jobRuns()
	pids := map[int]int{}
	for _, id := range ids {
		if len(r.Done[id]) != 1 {
			l.t.Errorf("job %s ran %d times (pids %v)", id, len(r.Done[id]), r.Done[id])
		}
		for _, pid := range r.Done[id] {
			pids[pid]++
		}
	}
	if len(r.Fails) > 0 {
		l.t.Errorf("job log has failures: %q", r.Fails)
	}
	if len(r.Done) != len(ids) {
		l.t.Errorf("job log has %d jobs, want %d", len(r.Done), len(ids))
	}
	return pids
}
