package handover

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/eventlistener"
	"github.com/drover/drover/internal/pool"
	"github.com/drover/drover/internal/process"
	"github.com/drover/drover/internal/reaper"
	"github.com/drover/drover/internal/supervisor"
	"github.com/drover/drover/internal/version"
)

// CheckFlag makes the daemon a dry run of a take-over: it reads the state
// named by EnvFD, loads its configuration and runs Check, prints the
// outcome and exits (0: it would take over).
const CheckFlag = "--check-handover"

// checkTimeout bounds the dry run.
const checkTimeout = 30 * time.Second

// Upgrade is the old image's side of an upgrade.
type Upgrade struct {
	Exe        string   // the binary to exec: the path the daemon was started from
	Args       []string // the daemon's command line
	ConfigFile string   // absolute
	Supervisor *supervisor.Supervisor
	Pools      *pool.Pools // nil: no pool state is handed over
	Images     int         // images run so far by this process, this one included
	// HoldLeases keeps the fleet's leases of this node valid through the
	// switch, renewing none until resume (the upgrade did not happen);
	// nil without a fleet.
	HoldLeases func() (resume func())
}

// Check runs the binary now at Exe with CheckFlag on a draft of the state
// (the processes and sockets, FastCGI ones included, without descriptors) and returns the build
// it reports, or why it refuses (its output).
func (u *Upgrade) Check(listeners []Listener) (newBuild string, err error) {
	st := u.state(nil, listeners)
	st.Events = &eventlistener.Handed{}
	if u.Pools != nil {
		st.Pools = u.Pools.HandOver() // a roll's processes yet to replace are checked as such
	}
	for _, g := range u.Supervisor.Groups() {
		for _, p := range g.Processes {
			st.Processes = append(st.Processes, Process{Group: g.Config.Name, Name: p.Config().Name, Command: p.ConfigAsRead().Command})
		}
		switch g.Config.Kind {
		case config.KindFCGI:
			st.FCGISockets = append(st.FCGISockets, FCGISocket{Group: g.Config.Name, Socket: g.Config.Socket, FD: -1})
		case config.KindEventListener:
			st.Events.Pools = append(st.Events.Pools, eventlistener.HandedPool{Group: g.Config.Name})
		}
	}
	f, err := write(st)
	if err != nil {
		return "", fmt.Errorf("write the state: %w", err)
	}
	defer f.Close()
	ctx, cancel := context.WithTimeout(context.Background(), checkTimeout)
	defer cancel()
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, u.Exe, append(append([]string(nil), u.Args[1:]...), CheckFlag)...)
	cmd.Args[0] = u.Args[0] // the name selects supervisord's mode
	cmd.Env = append(os.Environ(), EnvFD+"=3")
	cmd.ExtraFiles = []*os.File{f}
	cmd.Stdout, cmd.Stderr = &out, &out
	// Started through the reaper so an orphan-reaping daemon leaves its
	// exit status to Wait.
	pid, err := reaper.Start(func() (int, error) {
		if err := cmd.Start(); err != nil {
			return 0, err
		}
		return cmd.Process.Pid, nil
	})
	if err != nil {
		return "", fmt.Errorf("run %s: %w", u.Exe, err)
	}
	err = cmd.Wait()
	reaper.Done(pid)
	text := strings.TrimSpace(lastBytes(out.String(), 4096))
	if err != nil {
		if text == "" {
			text = err.Error()
		}
		return "", fmt.Errorf("%s %s refused the take-over: %s", u.Exe, CheckFlag, text)
	}
	build, ok := strings.CutPrefix(text, checkPassed)
	if !ok {
		return "", fmt.Errorf("%s %s answered %q: not a Drover that can take over", u.Exe, CheckFlag, text)
	}
	return build, nil
}

// checkPassed starts the dry run's answer, followed by the new build.
const checkPassed = "take-over possible: drover "

func lastBytes(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// state is a State of this image without processes.
func (u *Upgrade) state(prevExe *os.File, listeners []Listener) *State {
	st := &State{Format: Format, Build: version.Build, Images: u.Images, ConfigFile: u.ConfigFile, Args: u.Args,
		PreviousExe: -1, Listeners: listeners}
	if prevExe != nil {
		st.PreviousExe = int(prevExe.Fd())
	}
	return st
}

// Exec freezes the supervisor and execs Exe with the state. Nothing may
// serve listeners any more. It returns only if the upgrade did not happen;
// everything then runs on as before.
func (u *Upgrade) Exec(listeners []Listener) error {
	frozen, thaw, err := u.Supervisor.Freeze()
	if err != nil {
		return err
	}
	// Only while the runners are frozen, so that no child forked
	// meanwhile inherits them, are the descriptors for the new image
	// inheritable.
	var inheritable []*os.File
	defer func() {
		for _, f := range inheritable {
			f.Close()
		}
		for _, l := range listeners {
			unix.CloseOnExec(l.FD)
		}
		thaw()
	}()
	for _, l := range listeners {
		if _, err := unix.FcntlInt(uintptr(l.FD), unix.F_SETFD, 0); err != nil {
			return fmt.Errorf("make the socket of [%s] inheritable: %w", l.Section, err)
		}
	}
	// The previous image stays reachable for a fallback even once the
	// package manager has replaced the file at Exe.
	prev, err := os.Open("/proc/self/exe")
	if err != nil {
		return fmt.Errorf("open this image's executable: %w", err)
	}
	inheritable = append(inheritable, prev)
	if err := inherit(prev); err != nil {
		return err
	}
	st := u.state(prev, listeners)
	for _, p := range frozen.Processes {
		st.Processes = append(st.Processes, Process{Group: p.Group, Name: p.Name, Command: p.Command, Adopted: p.Adopted})
	}
	for group, fd := range frozen.FCGISockets {
		st.FCGISockets = append(st.FCGISockets, FCGISocket{Group: group, Socket: u.Supervisor.Group(group).Config.Socket, FD: fd})
	}
	if u.Pools != nil {
		st.Pools = u.Pools.HandOver()
	}
	if u.HoldLeases != nil {
		resume := u.HoldLeases()
		defer resume() // reached only if the exec did not happen
	}
	st.Events = &frozen.Events
	f, err := write(st)
	if err != nil {
		return fmt.Errorf("write the state: %w", err)
	}
	inheritable = append(inheritable, f)
	if err := inherit(f); err != nil {
		return err
	}
	env := append(withoutHandoverEnv(os.Environ()), EnvFD+"="+strconv.Itoa(int(f.Fd())))
	if err := u.Supervisor.EventsSinceFreeze(); err != nil {
		return err
	}
	return fmt.Errorf("execve %s: %w", u.Exe, process.ExecOnSpawnThread(u.Exe, u.Args, env))
}

// inherit clears close-on-exec on f: its descriptor survives execve.
func inherit(f *os.File) error {
	if _, err := unix.FcntlInt(f.Fd(), unix.F_SETFD, 0); err != nil {
		return fmt.Errorf("make %s inheritable: %w", f.Name(), err)
	}
	return nil
}

// withoutHandoverEnv drops the variables of an earlier take-over.
func withoutHandoverEnv(env []string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, EnvFD+"=") && !strings.HasPrefix(kv, EnvFallback+"=") {
			out = append(out, kv)
		}
	}
	return out
}
