package daemon

import (
	"errors"
	"fmt"
	"github.com/drover/drover/internal/pyrepr"
	"io"
	"os"
	"os/exec"
	"strconv"
	"syscall"
)

// Go cannot fork, so supervisord daemonizes by running itself again, in a
// new session, with readyFDEnv naming a pipe. The child does the whole
// startup with the invoking terminal's stdout and stderr, so every config,
// privilege and socket error still reaches it with exit status 2; once its
// sockets listen and the pidfile is written it points its stdio at
// /dev/null and writes readyMessage to the pipe. The parent then exits 0.
const (
	readyFDEnv   = "DROVER_DAEMON_READY_FD"
	readyMessage = "ready\n"
)

// spawnDaemon re-runs this program (same argv) detached and waits until it
// reports readiness or exits. It returns the exit status for the invoker.
func spawnDaemon(stdout, stderr io.Writer) int {
	r, w, err := os.Pipe()
	if err != nil {
		fmt.Fprintf(stderr, "Error: daemonize: %v\n", err)
		return 1
	}
	defer r.Close()
	cmd := &exec.Cmd{
		Path:        "/proc/self/exe",
		Args:        os.Args,
		Env:         append(os.Environ(), readyFDEnv+"=3"),
		Stdout:      stdout,
		Stderr:      stderr,
		ExtraFiles:  []*os.File{w},
		SysProcAttr: &syscall.SysProcAttr{Setsid: true},
	}
	err = cmd.Start()
	w.Close()
	if err != nil {
		fmt.Fprintf(stderr, "Error: daemonize: %v\n", err)
		return 1
	}
	msg, _ := io.ReadAll(r) // EOF once the child reported, or died
	if string(msg) == readyMessage {
		// The daemon lives on; it is init's child once we exit.
		cmd.Process.Release()
		return 0
	}
	// The child failed and already said why on our stderr.
	if err := cmd.Wait(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) && ee.ExitCode() > 0 {
			return ee.ExitCode()
		}
		return 1
	}
	return 0
}

// daemonChild is the detached side of spawnDaemon: nil when this process
// was not started by spawnDaemon.
type daemonChild struct {
	ready *os.File
}

// takeDaemonChild recognises a daemonized child and removes the marker
// from the environment so that programs and reloads do not see it.
func takeDaemonChild() *daemonChild {
	v, ok := os.LookupEnv(readyFDEnv)
	if !ok {
		return nil
	}
	os.Unsetenv(readyFDEnv)
	fd, err := strconv.Atoi(v)
	if err != nil {
		return nil
	}
	// Not inherited by the programs supervisord starts.
	syscall.CloseOnExec(fd)
	return &daemonChild{ready: os.NewFile(uintptr(fd), "daemon-ready")}
}

// detach finishes daemonizing, as Supervisor's child does after its fork:
// chdir to directory (when set), stdio to /dev/null, umask. It returns the
// main-log lines to write (the chdir result).
func (d *daemonChild) detach(directory string, umask int) (infos, crits []string) {
	if directory != "" {
		if err := os.Chdir(directory); err != nil {
			crits = append(crits, fmt.Sprintf("can't chdir into %s: %v", pyrepr.Str(directory), err))
		} else {
			infos = append(infos, fmt.Sprintf("set current directory: %s", pyrepr.Str(directory)))
		}
	}
	if null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0); err == nil {
		for fd := range 3 {
			syscall.Dup2(int(null.Fd()), fd)
		}
		null.Close()
	}
	syscall.Umask(umask)
	return infos, crits
}

// reportReady tells the waiting parent that startup succeeded.
func (d *daemonChild) reportReady() {
	io.WriteString(d.ready, readyMessage)
	d.ready.Close()
}
