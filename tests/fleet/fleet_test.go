package fleet

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/drover/drover/internal/client"
	"github.com/drover/drover/internal/wire"
	"github.com/drover/drover/tests/laravelenv"
)

const (
	// secret is every node's [fleet] secret.
	secret    = "fleet-test-secret-0123456789"
	pollEvery = 20 * time.Millisecond
	// heartbeat is every node's heartbeat_interval: stale after 600 ms
	// without a beat, gone once its key expires at 900 ms.
	heartbeat = 300 * time.Millisecond
	keyPrefix = "drover:fleettest:"
	// n3Beat is the heartbeat_interval of a node whose death or shutdown
	// a test watches: it stays stale a whole n3Beat before it is gone.
	n3Beat = time.Second
)

var droverBin string

func TestMain(m *testing.M) { os.Exit(runMain(m)) }

func runMain(m *testing.M) int {
	if laravelenv.MissingTool("", "redis-server") != "" {
		return m.Run() // each test skips
	}
	var remove func()
	var err error
	droverBin, remove, err = laravelenv.DroverBin("drover-fleet-bin", os.Getenv("DROVER_BIN"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer remove()
	return m.Run()
}

// node is one drover daemon of the fleet.
type node struct {
	t       *testing.T
	name    string
	dir     string
	conf    string
	mainLog string
	cmd     *exec.Cmd
	ended   chan struct{}
	rpc     *client.Client
	stopped bool
}

// sleepers is a program of two workers that can roll (numbered names).
const sleepers = `
[program:sleeper]
command=sleep 1000
process_name=%(program_name)s_%(process_num)d
numprocs=2
startsecs=0
stdout_logfile=NONE
stderr_logfile=NONE
`

// onRedis is the [fleet] line naming the redis-server on port.
func onRedis(port int) string { return fmt.Sprintf("redis_url=redis://127.0.0.1:%d/0\n", port) }

// startNode starts node name on the Redis that the [fleet] lines redis
// name (onRedis), with labels (k=v,...) besides node=<name> and the given
// program sections; it waits until two processes or more run.
func startNode(t *testing.T, name, redis, labels, programs string) *node {
	t.Helper()
	return startNodeBeating(t, name, redis, labels, programs, heartbeat)
}

// startNodeBeating is startNode with the heartbeat_interval beat.
func startNodeBeating(t *testing.T, name, redis, labels, programs string, beat time.Duration) *node {
	t.Helper()
	n := &node{t: t, name: name, dir: laravelenv.TempDir(t, "fleet-"+name)}
	sock := filepath.Join(n.dir, "s.sock")
	n.mainLog = filepath.Join(n.dir, "main.log")
	n.conf = filepath.Join(n.dir, "supervisord.conf")
	conf := laravelenv.ConfHeader(sock, n.mainLog, n.dir) + fmt.Sprintf(`
[fleet]
%snode_name=%s
labels=%snode=%s
heartbeat_interval=%s
key_prefix=%s
secret=%s
`, redis, name, labels, name, beat, keyPrefix, secret) + programs
	if err := os.WriteFile(n.conf, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := os.Create(filepath.Join(n.dir, "daemon.out"))
	if err != nil {
		t.Fatal(err)
	}
	n.cmd = exec.Command(droverBin, "daemon", "-n", "-c", n.conf)
	n.cmd.Stdout, n.cmd.Stderr = out, out
	n.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM} // gone with a killed test binary
	if err := n.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	out.Close()
	n.ended = make(chan struct{})
	go func() { n.cmd.Wait(); close(n.ended) }()
	n.rpc = client.New("unix://"+sock, "", "")
	t.Cleanup(func() { n.stop() })
	laravelenv.WaitFor(t, name+" answers with 2 RUNNING or more", 30*time.Second, pollEvery, func() bool {
		return len(n.pids()) >= 2
	})
	return n
}

// stop shuts the daemon down, kills what is left of its process group and
// its workers (a SIGKILLed daemon leaves them), and shows its logs on
// failure. A second call does nothing.
func (n *node) stop() {
	if n.stopped {
		return
	}
	n.stopped = true
	pids := n.pids()
	n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-n.ended:
	case <-time.After(30 * time.Second):
		n.t.Errorf("%s did not stop", n.name)
	}
	syscall.Kill(-n.cmd.Process.Pid, syscall.SIGKILL)
	for _, pid := range pids {
		syscall.Kill(pid, syscall.SIGKILL)
	}
	if n.t.Failed() {
		for _, f := range []string{n.mainLog, filepath.Join(n.dir, "daemon.out")} {
			data, _ := os.ReadFile(f)
			n.t.Logf("%s %s:\n%s", n.name, filepath.Base(f), data)
		}
	}
}

// pids returns the pids of the node's RUNNING workers by name.
func (n *node) pids() map[string]int {
	infos, err := n.rpc.AllProcessInfo(context.Background())
	if err != nil {
		return nil
	}
	out := map[string]int{}
	for _, i := range infos {
		if i.State == wire.ProcessRunning {
			out[i.Name] = i.PID
		}
	}
	return out
}

// ctl runs the real `drover ctl -c <conf> args...`.
func (n *node) ctl(args ...string) (string, int) {
	cmd := exec.Command(droverBin, append([]string{"ctl", "-c", n.conf}, args...)...)
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		n.t.Fatal(err)
	}
	return string(out), code
}

// fleet is `fleet status --json` as n sees it, by node name.
func (n *node) fleet() map[string]wire.FleetNode {
	n.t.Helper()
	out, code := n.ctl("fleet", "status", "--json")
	if code != 0 {
		n.t.Fatalf("%s: fleet status --json: exit %d: %s", n.name, code, out)
	}
	var nodes []wire.FleetNode
	if err := json.Unmarshal([]byte(out), &nodes); err != nil {
		n.t.Fatalf("%s: fleet status --json: %v\n%s", n.name, err, out)
	}
	byName := map[string]wire.FleetNode{}
	for _, fn := range nodes {
		byName[fn.Name] = fn
	}
	return byName
}

func (n *node) logCount(text string) int {
	data, _ := os.ReadFile(n.mainLog)
	return strings.Count(string(data), text)
}

func allUp(view map[string]wire.FleetNode, names ...string) bool {
	for _, name := range names {
		if view[name].State != wire.FleetUp {
			return false
		}
	}
	return true
}

// allRunning is allUp with both sleepers of each node RUNNING in its
// latest beat: a node's first beat can come while they are STARTING
// (published before their fork).
func allRunning(view map[string]wire.FleetNode, names ...string) bool {
	for _, name := range names {
		if view[name].Counts["RUNNING"] != 2 {
			return false
		}
	}
	return allUp(view, names...)
}

func TestFleet(t *testing.T) {
	if droverBin == "" {
		t.Skip("redis-server not found")
	}
	redis := laravelenv.NewRedis(t, laravelenv.TempDir(t, "fleet-redis"))
	redis.Start(t, pollEvery)
	names := []string{"n1", "n2", "n3"}
	var nodes []*node
	for _, name := range names[:2] {
		nodes = append(nodes, startNode(t, name, onRedis(redis.Port), "role=worker,", sleepers))
	}
	// n3, SIGKILLed at the end, beats every second: it is stale from 2 s
	// after its last beat until its key expires at 3 s, a window a loaded
	// host's poll does not miss (with 300 ms it was 300 ms wide).
	nodes = append(nodes, startNodeBeating(t, "n3", onRedis(redis.Port), "role=worker,", sleepers, n3Beat))

	// Every node sees every node up, with its processes, labels and version.
	for _, n := range nodes {
		laravelenv.WaitFor(t, n.name+" sees the three nodes up, their sleepers RUNNING", 30*time.Second, pollEvery, func() bool {
			return allRunning(n.fleet(), names...)
		})
		for _, name := range names {
			fn := n.fleet()[name]
			if fn.Counts["RUNNING"] != 2 || fn.Labels["node"] != name || fn.Version == "" || len(fn.Groups) != 1 {
				t.Errorf("%s sees %s as %+v", n.name, name, fn)
			}
		}
	}
	out, code := nodes[1].ctl("fleet", "status", "sleeper")
	for _, name := range names {
		for _, p := range []string{"sleeper_0", "sleeper_1"} {
			if !strings.Contains(out, fmt.Sprintf("%-16s %-6s %-30s RUNNING", name, "up", "sleeper:"+p)) {
				t.Errorf("fleet status sleeper (exit %d) lacks %s's %s:\n%s", code, name, p, out)
			}
		}
	}

	// Redis goes away: every daemon keeps its workers and logs the loss
	// once; it comes back on the same port: every node re-joins, no
	// worker restarted.
	before := make([]map[string]int, len(nodes))
	for i, n := range nodes {
		before[i] = n.pids()
	}
	redis.Stop()
	const lost, back = "fleet: Redis unreachable", "fleet: Redis reachable again"
	for _, n := range nodes {
		laravelenv.WaitFor(t, n.name+" logs the loss of Redis", 30*time.Second, pollEvery, func() bool {
			return n.logCount(lost) > 0
		})
	}
	time.Sleep(5 * heartbeat) // beats go on failing meanwhile
	if out, code := nodes[0].ctl("fleet", "status"); code != 1 || !strings.Contains(out, "Redis unreachable") {
		t.Errorf("fleet status without Redis: exit %d: %s", code, out)
	}
	redis.Start(t, pollEvery)
	laravelenv.WaitFor(t, "every node re-joins", 30*time.Second, pollEvery, func() bool {
		return allUp(nodes[2].fleet(), names...)
	})
	for i, n := range nodes {
		laravelenv.WaitFor(t, n.name+" logs the recovery", 30*time.Second, pollEvery, func() bool {
			return n.logCount(back) > 0
		})
		if l, b := n.logCount(lost), n.logCount(back); l != 1 || b != 1 {
			t.Errorf("%s logged the loss %d times and the recovery %d times, want 1 and 1", n.name, l, b)
		}
		if after := n.pids(); fmt.Sprint(after) != fmt.Sprint(before[i]) {
			t.Errorf("%s workers changed across the Redis restart: %v, then %v", n.name, before[i], after)
		}
	}

	// Commands flow again after the restart (each node made its consumer
	// group again).
	if out, code := nodes[1].ctl("fleet", "restart", "sleeper"); code != 0 || !strings.Contains(out, "3 node(s): 3 done") {
		t.Errorf("fleet restart after the Redis restart: exit %d:\n%s", code, out)
	}

	// n3 is SIGKILLed: n1 sees it stale, then gone. Its orphaned
	// workers are killed at the end.
	orphans := nodes[2].pids()
	t.Cleanup(func() {
		for _, pid := range orphans {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	if err := nodes[2].cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	seen := map[string]time.Duration{}
	laravelenv.WaitFor(t, "n3 gone", 30*time.Second, pollEvery, func() bool {
		fn, err := nodes[0].rpc.Fleet(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range fn {
			if _, ok := seen[f.State]; f.Name == "n3" && !ok {
				seen[f.State] = time.Since(killed)
			}
		}
		_, gone := seen[wire.FleetGone]
		return gone
	})
	stale, sawStale := seen[wire.FleetStale]
	if !sawStale || stale > seen[wire.FleetGone] {
		t.Errorf("n3 after SIGKILL: states first seen at %v, want stale before gone", seen)
	}
	t.Logf("n3 after SIGKILL: %v", seen)
	if view := nodes[1].fleet(); !allUp(view, "n1", "n2") || view["n3"].State != wire.FleetGone {
		t.Errorf("n2's view after n3's death: %+v", view)
	}
}
