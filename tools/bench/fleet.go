package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/fleet"
	"github.com/drover/drover/internal/process"
	"github.com/drover/drover/internal/supervisor"
)

// fleetSizes are the fleet scenario's parameters: Nodes in the fleet, Real
// of them drover daemons with Programs sleepers each, the others simulated
// in this process (fleet.JoinSimulated: the same beats and command reads
// against Redis as a daemon's); Redis's load is measured over Secs with
// every node beating every Beat.
type fleetSizes struct {
	Nodes    int           `json:"nodes"`
	Real     int           `json:"real"`
	Programs int           `json:"programs"`
	Secs     int           `json:"secs"`
	Beat     time.Duration `json:"beat_ns"`
	Statuses int           `json:"statuses"` // fleet status runs timed
}

func init() {
	fullSizes.Fleet = fleetSizes{Nodes: 100, Real: 30, Programs: 3, Secs: 30, Beat: 5 * time.Second, Statuses: 20}
	quickSizes.Fleet = fleetSizes{Nodes: 20, Real: 4, Programs: 3, Secs: 5, Beat: time.Second, Statuses: 5}
}

// fleetSecret signs the fleet's commands: with it every node reads the
// command stream, as a fleet that takes actions does.
const fleetSecret = "bench-fleet-secret-0123456789"

// fleetScenario is the fleet row (Drover only): `fleet status` answer time
// at fz.Nodes nodes, the heartbeat load on Redis per node, and the RSS of a
// node with and without [fleet].
func fleetScenario(sz sizes, g func(string, float64) goal) scenario {
	fz := sz.Fleet
	return scenario{Name: fmt.Sprintf("fleet %d nodes (%d real, %d simulated), beat %s", fz.Nodes, fz.Real, fz.Nodes-fz.Real, fz.Beat),
		Group: "fleet", Runs: 1,
		Measures: []measureDef{
			{"status", "`supervisorctl fleet status` (Drover's ctl), median", "ms", g("<=", 100)},
			{"status_plain", "floor: `supervisorctl status` of that node (3 programs), median", "ms", goal{}},
			{"getfleet", "one drover.getFleet (call → last byte), median", "ms", goal{}},
			{"cmds", "Redis commands per node", "/s", goal{}},
			{"bytes_in", "bytes to Redis per node", "B/s", goal{}},
			{"bytes_out", "bytes from Redis per node", "B/s", goal{}},
			{"rss_off", fmt.Sprintf("node RSS without [fleet], %d programs", fz.Programs), "MB", goal{}},
			{"rss_on", fmt.Sprintf("node RSS in the fleet, %d programs (median of the real nodes)", fz.Programs), "MB", goal{}},
			{"rss_rise", "rise with the fleet on", "MB", goal{}},
		},
		run: runFleet}
}

func runFleet(ctx context.Context, e *benchEnv, k daemonKind, dir string) (map[string]float64, error) {
	fz := e.sizes.Fleet
	if k.Name != "drover" || e.droverCtl == "" {
		return map[string]float64{}, nil
	}
	port, stopRedis, err := startBenchRedis(ctx, dir)
	if err != nil {
		return nil, err
	}
	defer stopRedis()
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + strconv.Itoa(port)})
	defer rdb.Close()

	// The node without [fleet] runs beside the fleet, so that both RSS
	// figures are read at the same moment.
	off, err := startRunning(ctx, e, k, filepath.Join(dir, "off"), fz.Programs)
	if err != nil {
		return nil, err
	}
	defer off.kill()
	var nodes []*daemon
	defer func() {
		for _, d := range nodes {
			d.kill()
		}
	}()
	for i := range fz.Real {
		name := fmt.Sprintf("real%03d", i)
		cfg := benchConfig{Dir: filepath.Join(dir, name), Programs: sleepers(fz.Programs, e.sleepBin, 1, ""),
			Extra: fleetSection(name, port, fz.Beat)}
		d, err := startWithPrograms(ctx, k, cfg)
		if err != nil {
			return nil, err
		}
		nodes = append(nodes, d)
	}
	for _, d := range nodes {
		if err := d.waitAllRunning(ctx, programName(fz.Programs-1), runningLimit(fz.Programs)); err != nil {
			return nil, err
		}
	}
	stopSimulated, err := simulateNodes(ctx, port, fz)
	if err != nil {
		return nil, err
	}
	defer stopSimulated()

	// Every node up, as the first real node reads the fleet.
	deadline := time.Now().Add(3*fz.Beat + 30*time.Second)
	for {
		fl, err := nodes[0].rpc.Fleet(ctx)
		up := 0
		for _, n := range fl {
			if n.State == "up" {
				up++
			}
		}
		if err == nil && up == fz.Nodes {
			break
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return nil, errors.Join(fmt.Errorf("%d of %d nodes up after %v", up, fz.Nodes, time.Since(deadline)), err, ctx.Err())
		}
		time.Sleep(100 * time.Millisecond)
	}

	// Redis's load while nothing but the nodes talks to it.
	s0, err := redisStats(ctx, rdb)
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	if err := sleepCtx(ctx, time.Duration(fz.Secs)*time.Second); err != nil {
		return nil, err
	}
	s1, err := redisStats(ctx, rdb)
	if err != nil {
		return nil, err
	}
	per := func(key string) float64 { return (s1[key] - s0[key]) / time.Since(t0).Seconds() / float64(fz.Nodes) }
	out := map[string]float64{"cmds": per("total_commands_processed"),
		"bytes_in": per("total_net_input_bytes"), "bytes_out": per("total_net_output_bytes")}

	var rss []float64
	for _, d := range nodes {
		r, _, err := memMB(d.pid)
		if err != nil {
			return nil, err
		}
		rss = append(rss, r)
	}
	rssOff, _, err := memMB(off.pid)
	if err != nil {
		return nil, err
	}
	out["rss_off"], out["rss_on"] = rssOff, median(rss)
	out["rss_rise"] = out["rss_on"] - rssOff

	var calls []float64
	for range fz.Statuses {
		t := time.Now()
		fl, err := nodes[0].rpc.Fleet(ctx)
		if err != nil {
			return nil, err
		}
		if len(fl) != fz.Nodes {
			return nil, fmt.Errorf("drover.getFleet listed %d nodes, want %d", len(fl), fz.Nodes)
		}
		calls = append(calls, float64(time.Since(t).Microseconds())/1000)
	}
	out["getfleet"] = median(calls)
	// The ctl's own start and one call: the floor of any ctl command.
	plain, err := timeStatus(ctx, []string{e.droverCtl, "-c", nodes[0].cfg.file()}, fz.Statuses)
	if err != nil {
		return nil, err
	}
	out["status_plain"] = plain * 1000
	var statuses []float64
	argv := []string{e.droverCtl, "-c", nodes[0].cfg.file(), "fleet", "status"}
	for range fz.Statuses {
		t := time.Now()
		text, err := exec.CommandContext(ctx, argv[0], argv[1:]...).Output()
		dt := time.Since(t)
		if err != nil {
			return nil, fmt.Errorf("fleet status: %w", err)
		}
		if n := strings.Count(string(text), " up "); n != fz.Nodes {
			return nil, fmt.Errorf("fleet status showed %d nodes up, want %d", n, fz.Nodes)
		}
		statuses = append(statuses, float64(dt.Microseconds())/1000)
	}
	out["status"] = median(statuses)
	return out, nil
}

// fleetSection is the [fleet] section of node name on the Redis at port.
func fleetSection(name string, port int, beat time.Duration) string {
	return fmt.Sprintf("\n[fleet]\nredis_url=redis://127.0.0.1:%d/0\nnode_name=%s\nlabels=role=bench\nheartbeat_interval=%s\nsecret=%s\n",
		port, name, beat, fleetSecret)
}

// simulateNodes joins fz.Nodes-fz.Real simulated nodes, their starts
// spread over one interval as a fleet's are; each says it runs
// fz.Programs sleepers. stop makes them leave.
func simulateNodes(ctx context.Context, port int, fz fleetSizes) (stop func(), err error) {
	var members []*fleet.Member
	stop = func() {
		var wg sync.WaitGroup
		for _, m := range members {
			wg.Go(func() { m.Stop(true) })
		}
		wg.Wait()
	}
	n := fz.Nodes - fz.Real
	for i := range n {
		name := fmt.Sprintf("sim%03d", i)
		cfg := &config.Fleet{RedisURL: fmt.Sprintf("redis://127.0.0.1:%d/0", port), NodeName: name,
			Labels: map[string]string{"role": "bench"}, HeartbeatInterval: fz.Beat, KeyPrefix: "drover:fleet:",
			Secret: fleetSecret, CommandTTL: time.Minute}
		snap := simulatedSnapshot(fz.Programs, 100000+i*fz.Programs)
		m, err := fleet.JoinSimulated(cfg, func() supervisor.Snapshot { return snap }, discardLog{})
		if err != nil {
			stop()
			return nil, err
		}
		members = append(members, m)
		if err := sleepCtx(ctx, fz.Beat/time.Duration(max(n, 1))); err != nil {
			stop()
			return nil, err
		}
	}
	return stop, nil
}

// simulatedSnapshot is what a simulated node runs: programs RUNNING, each
// its own group, as the real nodes' sleepers.
func simulatedSnapshot(programs, firstPID int) supervisor.Snapshot {
	s := supervisor.Snapshot{Taken: time.Now()}
	for i := range programs {
		name := programName(i)
		s.Groups = append(s.Groups, supervisor.GroupSnapshot{Name: name, Processes: []supervisor.ProcessSnapshot{{
			Info:     process.Info{Group: name, Name: name, State: process.Running, PID: firstPID + i, Start: time.Now()},
			Namespec: name}}})
	}
	return s
}

type discardLog struct{}

func (discardLog) Logf(config.LogLevel, string, ...any) {}

// redisStats reads the counters of INFO stats.
func redisStats(ctx context.Context, rdb *redis.Client) (map[string]float64, error) {
	info, err := rdb.Info(ctx, "stats").Result()
	if err != nil {
		return nil, fmt.Errorf("redis INFO: %w", err)
	}
	out := map[string]float64{}
	for line := range strings.Lines(info) {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if f, err := strconv.ParseFloat(v, 64); ok && err == nil {
			out[k] = f
		}
	}
	for _, k := range []string{"total_commands_processed", "total_net_input_bytes", "total_net_output_bytes"} {
		if _, ok := out[k]; !ok {
			return nil, fmt.Errorf("redis INFO stats has no %s", k)
		}
	}
	return out, nil
}

// startBenchRedis starts a redis-server on a free loopback port, saving
// nothing, and waits until it answers.
func startBenchRedis(ctx context.Context, dir string) (int, func(), error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return 0, nil, errors.New("redis-server not found (scripts/install-test-deps.sh installs it)")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, nil, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, nil, err
	}
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", dir, "--maxclients", "10000")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return 0, nil, err
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	stop := func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	}
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + strconv.Itoa(port)})
	defer rdb.Close()
	for deadline := time.Now().Add(10 * time.Second); rdb.Ping(ctx).Err() != nil; {
		if time.Now().After(deadline) || ctx.Err() != nil {
			stop()
			return 0, nil, fmt.Errorf("redis-server on port %d did not answer", port)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return port, stop, nil
}
