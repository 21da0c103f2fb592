package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/drover/drover/internal/client"
)

// daemonKind is one of the supervisors under test: Python's supervisord,
// Drover, or a peer given with --peer.
type daemonKind struct {
	Name string // "supervisord", "drover" or the peer's name
	// Start launches the daemon in the foreground; confPlaceholder in it
	// stands for the generated configuration file. For Drover the program
	// is a symlink named supervisord to the drover binary.
	Start []string
	// Ctl is the daemon's own control command, to which "status" is
	// appended, with confPlaceholder as in Start; empty for none.
	Ctl []string
	// Version is the command that prints the daemon's version; empty when
	// there is none to ask.
	Version []string
}

// confPlaceholder in a daemon's Start or Ctl command is replaced by the path
// of the configuration file.
const confPlaceholder = "{conf}"

// withConf returns cmd with confPlaceholder replaced by conf.
func withConf(cmd []string, conf string) []string {
	out := make([]string, len(cmd))
	for i, a := range cmd {
		out[i] = strings.ReplaceAll(a, confPlaceholder, conf)
	}
	return out
}

// daemon is one running supervisor started by the benchmark.
type daemon struct {
	kind     daemonKind
	cfg      benchConfig
	cmd      *exec.Cmd
	pid      int
	launched time.Time
	rpc      *client.Client
	done     chan struct{} // closed once the daemon is reaped
}

// running holds every daemon not yet reaped, for cleanup on interrupt.
var running = struct {
	sync.Mutex
	m map[*daemon]bool
}{m: map[*daemon]bool{}}

// startDaemon launches kind on cfg. The caller must call kill.
func startDaemon(kind daemonKind, cfg benchConfig) (*daemon, error) {
	out, err := os.Create(filepath.Join(cfg.Dir, kind.Name+".out"))
	if err != nil {
		return nil, fmt.Errorf("create daemon output: %w", err)
	}
	defer out.Close()
	argv := withConf(kind.Start, cfg.file())
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = cfg.Dir
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM} // gone with a killed test binary
	d := &daemon{kind: kind, cfg: cfg, cmd: cmd, rpc: client.New("unix://"+cfg.socket(), "", ""), done: make(chan struct{})}
	running.Lock()
	defer running.Unlock()
	d.launched = time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", kind.Name, err)
	}
	d.pid = cmd.Process.Pid
	running.m[d] = true
	go func() {
		cmd.Wait()
		close(d.done)
	}()
	return d, nil
}

func (d *daemon) exited() bool {
	select {
	case <-d.done:
		return true
	default:
		return false
	}
}

// waitReady waits until the daemon answers XML-RPC.
func (d *daemon) waitReady(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		_, err := d.rpc.Call(ctx, "supervisor.getState")
		if err == nil {
			return nil
		}
		if d.exited() {
			return fmt.Errorf("%s exited during start-up (see %s)", d.kind.Name, filepath.Join(d.cfg.Dir, d.kind.Name+".out"))
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return errors.Join(fmt.Errorf("%s not ready after %v", d.kind.Name, timeout), err, ctx.Err())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitAllRunning waits until every process is RUNNING. It asks for the last
// program first, which is cheap and, as programs start in name order, usually
// the last to get there, then confirms with getAllProcessInfo.
func (d *daemon) waitAllRunning(ctx context.Context, last string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for ctx.Err() == nil && time.Now().Before(deadline) {
		if d.exited() {
			return fmt.Errorf("%s exited", d.kind.Name)
		}
		if last != "" {
			p, err := d.rpc.ProcessInfo(ctx, last)
			if err != nil || !isRunning(p) {
				time.Sleep(10 * time.Millisecond)
				continue
			}
		}
		all, err := d.rpc.AllProcessInfo(ctx)
		if err == nil && countRunning(all) == len(all) {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return errors.Join(fmt.Errorf("%s: not all RUNNING within %v", d.kind.Name, timeout), ctx.Err())
}

// isRunning reports whether p is RUNNING. A peer may spell the state
// name its own way (the Go clone says "Running").
func isRunning(p client.ProcessInfo) bool { return strings.EqualFold(p.StateName, "RUNNING") }

func countRunning(ps []client.ProcessInfo) int {
	n := 0
	for _, p := range ps {
		if isRunning(p) {
			n++
		}
	}
	return n
}

// kill stops the daemon and every process below it at once with SIGKILL.
// The benchmark is a child subreaper, so the orphans come back to it and are
// reaped here.
// It may be called again.
func (d *daemon) kill() {
	defer d.rpc.Close()
	var below []int
	if !d.exited() { // once reaped, its pid may belong to someone else
		below = descendants(d.pid)
		syscall.Kill(d.pid, syscall.SIGKILL)
		<-d.done
	}
	// Children forked after the first look are orphans of this process by now.
	// (Only one daemon runs at a time, so everything else below is its.)
	victims := append(below, descendants(os.Getpid())...)
	for _, pid := range victims {
		if !isOwnDaemon(pid) {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	for _, pid := range victims {
		if !isOwnDaemon(pid) {
			reapOrphan(pid)
		}
	}
	running.Lock()
	delete(running.m, d)
	running.Unlock()
}

// isOwnDaemon reports whether pid is a daemon still in use (a concurrent
// cleanup must not kill it).
func isOwnDaemon(pid int) bool {
	running.Lock()
	defer running.Unlock()
	for d := range running.m {
		if d.pid == pid && !d.exited() {
			return true
		}
	}
	return false
}

// reapOrphan waits for pid if it became this process's child.
func reapOrphan(pid int) {
	for range 100 {
		var ws syscall.WaitStatus
		got, err := syscall.Wait4(pid, &ws, syscall.WNOHANG, nil)
		if err != nil || got == pid {
			return // ECHILD: reaped by someone else or not ours
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// killAll is the last-resort cleanup on interrupt.
func killAll() {
	running.Lock()
	ds := make([]*daemon, 0, len(running.m))
	for d := range running.m {
		ds = append(ds, d)
	}
	running.Unlock()
	for _, d := range ds {
		d.kill()
	}
}
