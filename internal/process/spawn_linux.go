package process

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/drover/drover/internal/guard"
	"github.com/drover/drover/internal/latch"
	"github.com/drover/drover/internal/pyrepr"
	"github.com/drover/drover/internal/reaper"
)

// forkExec is the real Spawner.
//
// Each child gets its own process group (pgid = pid), a stdin pipe (or
// Command.Stdin), and stdout/stderr pipes read by the output pollers (pump_linux.go); every other fd is
// close-on-exec. Exit is detected by waiting on the pid, never on the pipes.
//
// Go cannot run code between fork and exec, so when the program sets umask or
// directory the child first execs this binary as a trampoline (see
// trampoline.go) which applies them exactly as Supervisor's child does:
// a failed chdir prints `supervisor: couldn't chdir to /x: ENOENT` on the
// child's stderr and exits 127 ("exited too quickly").
type forkExec struct{}

// ForkExec returns the real Spawner, the one Options.Spawner nil stands for
// (a wrapper may add to it).
func ForkExec() Spawner { return forkExec{} }

const defaultPath = "/bin:/usr/bin:/usr/local/bin"

// pumpBufSize is a pump's read size: a whole grown pipe (floodPipeSize).
const pumpBufSize = floodPipeSize

// Check resolves the command as Supervisor's get_execv_args does.
func (forkExec) Check(c *Command) error {
	_, err := resolve(c)
	return err
}

// resolve returns the path to exec, or a *SpawnError with Supervisor's text.
func resolve(c *Command) (string, error) {
	if c.ArgvErr != "" {
		return "", &SpawnError{SpawnNotExecutable, c.ArgvErr}
	}
	if len(c.Argv) == 0 {
		return "", &SpawnError{SpawnNotExecutable, "command is empty"}
	}
	program := c.Argv[0]
	filename := program
	var st os.FileInfo
	if strings.Contains(program, "/") {
		st, _ = os.Stat(program)
	} else {
		path, ok := lookupEnv(c.Env, "PATH")
		if !ok {
			path = defaultPath
		}
		for _, dir := range filepath.SplitList(path) {
			found := filepath.Join(dir, program)
			if fi, err := os.Stat(found); err == nil {
				st, filename = fi, found
				break
			}
		}
	}
	switch {
	case st == nil:
		return "", &SpawnError{SpawnNoFile, "can't find command " + pyrepr.Str(filename)}
	case st.IsDir():
		return "", &SpawnError{SpawnNotExecutable, "command at " + pyrepr.Str(filename) + " is a directory"}
	case st.Mode().Perm()&0o111 == 0:
		return "", &SpawnError{SpawnNotExecutable, "command at " + pyrepr.Str(filename) + " is not executable"}
	case syscall.Access(filename, 1) != nil: // X_OK
		return "", &SpawnError{SpawnNotExecutable, "no permission to run command " + pyrepr.Str(filename)}
	}
	return filename, nil
}

func (forkExec) Spawn(c *Command) (Child, error) {
	path, err := resolve(c)
	if err != nil {
		return nil, err
	}
	spawnErr := func(format string, args ...any) error {
		return &SpawnError{SpawnFailed, fmt.Sprintf(format, args...)}
	}
	attr := &syscall.SysProcAttr{Setpgid: true, Pdeathsig: c.DeathSignal}
	if c.UID >= 0 && c.UID != os.Getuid() {
		// Checked here rather than in the child: the same text, seen at once.
		if os.Geteuid() != 0 {
			return nil, spawnErr("couldn't setuid to %d: Can't drop privilege as nonroot user", c.UID)
		}
		groups := make([]uint32, len(c.Groups))
		for i, g := range c.Groups {
			groups[i] = uint32(g)
		}
		attr.Credential = &syscall.Credential{Uid: uint32(c.UID), Gid: uint32(c.GID), Groups: groups}
	}
	p, err := newPipes(c.RedirectStderr, c.Stdin == nil)
	if err != nil {
		if isFDShortage(err) {
			return nil, fdShortage(c.Name, err)
		}
		return nil, spawnErr("unknown error making dispatchers for %s: %s", pyrepr.Str(c.Name), errnoName(err))
	}
	exe, argv := path, c.Argv
	if c.Umask >= 0 || c.Dir != "" {
		// The trampoline drops privileges itself: this binary need not be
		// executable by the target user.
		exe, argv = trampolineArgv(path, c, attr.Credential)
		attr.Credential = nil
	}
	stdin := uintptr(p.childIn)
	if c.Stdin != nil {
		stdin = c.Stdin.Fd()
	}
	// The kernel makes the child's pidfd in the same clone: the one
	// descriptor the daemon holds for the process (os.StartProcess would
	// keep a second one of its own).
	pidfd := -1
	attr.PidFD = &pidfd
	procAttr := &syscall.ProcAttr{
		Env:   c.Env,
		Files: []uintptr{stdin, uintptr(p.childOut), uintptr(p.childErr)},
		Sys:   attr,
	}
	pid, err := startOnSpawnThread(exe, argv, procAttr)
	if err != nil && exe == path && !errors.Is(err, syscall.EAGAIN) && !isFDShortage(err) {
		// The kernel refused a program that resolve accepted (a missing
		// interpreter, a binary for another machine). Supervisor's exec
		// fails after its fork: "spawned", the reason on the child's
		// stderr, exit 127. The trampoline's exec fails the same way.
		exe, argv = trampolineArgv(path, c, attr.Credential)
		attr.Credential = nil
		if pid2, err2 := startOnSpawnThread(exe, argv, procAttr); err2 == nil {
			pid, err = pid2, nil
		}
	}
	p.closeChildEnds()
	if err != nil {
		p.closeParentEnds()
		switch {
		case errors.Is(err, syscall.EAGAIN):
			return nil, spawnErr("Too many processes in process table to spawn %s", pyrepr.Str(c.Name))
		case isFDShortage(err):
			return nil, fdShortage(c.Name, err)
		}
		return nil, spawnErr("couldn't exec %s: %s", path, errnoName(err))
	}
	ch := &child{pid: pid, pidfd: int32(pidfd), stdin: newStdinWriter(p.in)}
	ch.pumpOutputs(c.Name, [2]pipeSink{{p.out, c.Stdout}, {p.err, c.Stderr}})
	return ch, nil
}

// pipeSink is an output pipe of a child, its non-blocking read end (-1:
// none), and where its bytes go.
type pipeSink struct {
	fd int
	w  io.Writer
}

// pumpOutputs gives each output pipe to the pollers, for a spawned child
// and for one adopted after an upgrade alike. The last pipe to reach EOF
// marks the child drained: no goroutine waits for them.
func (ch *child) pumpOutputs(name string, outs [2]pipeSink) {
	n := int8(0)
	what := "output pump of " + name // one string for both pumps
	for i, out := range outs {
		if out.fd >= 0 {
			ch.outputs[i] = &pumpedPipe{fd: out.fd, what: what}
			n++
		}
	}
	// Every pipe is counted before the first is pumped: counted one by
	// one, a child that exits at once let the stdout pump take the count
	// to zero before the stderr pump was added, and it reached zero twice
	// (close of closed channel: the daemon died, and every child with it).
	ch.mu.Lock()
	ch.pumping = n
	ch.mu.Unlock()
	if n == 0 {
		ch.pumpEnded()
	}
	pumpDone := ch.pumpEnded
	for i, pp := range ch.outputs {
		if pp != nil {
			pp.pump(outs[i].w, pumpDone)
		}
	}
}

// The kernel sends a child its parent-death signal when the *thread* that
// forked it exits, not the process. The Go runtime ends a thread when a
// goroutine exits while locked to it, so children are forked from one
// goroutine that locks its thread and never returns: the signal then comes
// only when the daemon itself dies.
var (
	spawnThreadOnce sync.Once
	spawnRequests   chan func()
)

// isFDShortage reports a failure for want of file descriptors, the
// daemon's own (EMFILE) or the system's (ENFILE).
func isFDShortage(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE)
}

// fdShortage is the spawn error for want of descriptors: Supervisor's text,
// then which limit was reached and what to do about it.
func fdShortage(name string, err error) error {
	why := "the system's table of open files is full (ENFILE)"
	if errors.Is(err, syscall.EMFILE) {
		why = "the daemon has reached its limit of open files (EMFILE"
		var lim unix.Rlimit
		if unix.Getrlimit(unix.RLIMIT_NOFILE, &lim) == nil {
			why += fmt.Sprintf(", RLIMIT_NOFILE %d", lim.Cur)
		}
		why += "); raise minfds or the hard limit (ulimit -n)"
	}
	return &SpawnError{SpawnFailed, fmt.Sprintf("too many open files to spawn %s: %s", pyrepr.Str(name), why)}
}

// startSpawnThread starts the spawn thread on a goroutine of its own,
// unless RunWithSpawnThread made the main thread the spawn thread.
func startSpawnThread() {
	spawnRequests = make(chan func())
	guard.Go("spawn thread", func() {
		runtime.LockOSThread() // never unlocked: the thread lives as long as the daemon
		for f := range spawnRequests {
			// A panic must not end the thread: its children would die.
			guard.Run("fork and exec of a child", f)
		}
	})
}

// RunWithSpawnThread runs run on a new goroutine and makes the calling
// goroutine, which must be locked to the main thread (runtime.LockOSThread
// in an init function), the spawn thread, until run returns its result.
// An upgrade execs on the spawn thread (ExecOnSpawnThread), which the kernel
// then makes the main thread of the new image: only if the new image forks
// on its main thread too are the children it adopted and the ones it forks
// later all children of the one thread its own upgrade execs on.
func RunWithSpawnThread(run func() int) int {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	spawnThreadOnce.Do(func() { spawnRequests = make(chan func()) })
	result := make(chan int, 1)
	go func() { result <- run() }()
	for {
		select {
		case f := <-spawnRequests:
			guard.Run("fork and exec of a child", f)
		case code := <-result:
			return code
		}
	}
}

// ExecOnSpawnThread replaces the process image by path (execve) from the
// spawn thread, the parent of every child: execve ends every other thread,
// and a child whose parent thread ends gets its parent-death signal. It
// returns only if the exec failed.
func ExecOnSpawnThread(path string, argv, env []string) error {
	spawnThreadOnce.Do(startSpawnThread)
	err := errors.New("internal error in exec")
	done := make(chan struct{})
	spawnRequests <- func() {
		defer close(done)
		err = syscall.Exec(path, argv, env)
	}
	<-done
	return err
}

// startOnSpawnThread is syscall.StartProcess run on the spawn thread.
func startOnSpawnThread(exe string, argv []string, attr *syscall.ProcAttr) (int, error) {
	spawnThreadOnce.Do(startSpawnThread)
	var pid int
	err := errors.New("internal error in spawn")
	done := make(chan struct{})
	spawnRequests <- func() {
		defer close(done)
		// The reaper must leave this child to Wait, which reaps it.
		pid, err = reaper.Start(func() (int, error) {
			pid, _, err := syscall.StartProcess(exe, argv, attr)
			return pid, err
		})
	}
	<-done
	return pid, err
}

// pipes are a child's stdio pipes, as bare descriptors, -1 for none: err
// with redirect_stderr, in and childIn when the child's stdin is not a
// pipe. The parent ends of the output pipes are non-blocking, for the
// output pollers; every other end is blocking. The child ends are closed
// once the child has its copies.
type pipes struct {
	in, out, err                int // parent ends
	childIn, childOut, childErr int
}

func newPipes(redirectStderr, stdinPipe bool) (_ *pipes, err error) {
	p := &pipes{in: -1, out: -1, err: -1, childIn: -1, childOut: -1, childErr: -1}
	defer func() {
		if err != nil {
			p.closeChildEnds()
			p.closeParentEnds()
		}
	}()
	if stdinPipe {
		if p.in, p.childIn, err = pipe(false); err != nil {
			return p, err
		}
	}
	if p.out, p.childOut, err = pipe(true); err != nil {
		return p, err
	}
	if redirectStderr {
		p.childErr = p.childOut
		return p, nil
	}
	p.err, p.childErr, err = pipe(true)
	return p, err
}

// pipe makes one pipe and returns its parent end (the read end if
// parentReads) and its child end, a blocking descriptor. An output pipe's
// parent end is non-blocking and goes straight to the output pollers,
// never into the runtime's: a pipe2 and an fcntl. A stdin pipe is
// blocking at both ends until its first write (stdinWriter): a pipe2.
// Neither is an *os.File: the runtime's poller is not used for them, and
// an *os.File is about 100 bytes a pipe for every child (os.Pipe and Fd
// took 11 system calls a pipe, where this takes 2).
func pipe(parentReads bool) (parent, child int, err error) {
	var fds [2]int
	flags := unix.O_CLOEXEC
	if parentReads {
		flags |= unix.O_NONBLOCK
	}
	if err := unix.Pipe2(fds[:], flags); err != nil {
		return -1, -1, err
	}
	parent, child = fds[1], fds[0]
	if parentReads {
		parent, child = fds[0], fds[1]
		// O_NONBLOCK is a flag of each end: a child expects blocking stdio.
		if _, err := unix.FcntlInt(uintptr(child), unix.F_SETFL, 0); err != nil {
			unix.Close(fds[0])
			unix.Close(fds[1])
			return -1, -1, err
		}
	}
	return parent, child, nil
}

func (p *pipes) closeChildEnds() {
	for _, fd := range []int{p.childIn, p.childOut, p.childErr} {
		if fd >= 0 {
			unix.Close(fd) // childErr may equal childOut: the second close just fails
		}
	}
	p.childIn, p.childOut, p.childErr = -1, -1, -1
}

func (p *pipes) closeParentEnds() {
	for _, fd := range []int{p.in, p.out, p.err} {
		if fd >= 0 {
			unix.Close(fd)
		}
	}
	p.in, p.out, p.err = -1, -1, -1
}

// child is a process started by forkExec. It is also its own exit watch
// in a poller's set (NotifyExit, poller_linux.go).
type child struct {
	pid int
	// mu keeps Wait from closing pidfd while Signal uses it, and guards
	// the drained state below.
	mu sync.Mutex
	// pidfd refers to the child until Wait has reaped it and closed it:
	// Signal through it can never reach a process that reused the pid.
	// -1 if the kernel gave none (Wait then blocks a thread in wait4), or
	// once closed (reaped says which). Only Wait changes it.
	pidfd  int32
	reaped bool // guarded by mu: Wait has reaped the child
	// pumping counts the output pipes not at EOF yet; drained is set once
	// none is left, its channel made by the first Drained (only a Runner's
	// end waits for it). Both guarded by mu.
	pumping int8
	drained latch.Latch
	stdin   *stdinWriter
	// outputs are the stdout and stderr pipes (nil: none), each read by a
	// poller until its EOF; an upgrade hands them over (handover.go).
	outputs [2]*pumpedPipe
	// Set by NotifyExit: the program's name and who is told of the exit.
	name   string
	onExit func(ExitStatus)
}

// Drained is closed once all of the child's output has been copied out.
func (c *child) Drained() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.drained.Chan()
}

// pumpEnded counts an output pipe at its EOF, or the child drained when
// it has no pipe to wait for (pumping 0).
func (c *child) pumpEnded() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pumping > 0 {
		c.pumping--
	}
	if c.pumping == 0 {
		c.drained.Set()
	}
}

func (c *child) PID() int         { return c.pid }
func (c *child) Stdin() io.Writer { return c.stdin }

func (c *child) Signal(sig syscall.Signal, group bool) error {
	if group {
		return syscall.Kill(-c.pid, sig)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.reaped:
		return syscall.ESRCH
	case c.pidfd < 0:
		return syscall.Kill(c.pid, sig)
	}
	return unix.PidfdSendSignal(int(c.pidfd), sig, nil, 0)
}

// Wait reaps the child (wait4 on its pid, once its pidfd said it exited),
// closes its pidfd and its stdin. It is called once.
func (c *child) Wait() ExitStatus {
	if c.pidfd >= 0 {
		awaitExit(int(c.pidfd))
	}
	var ws syscall.WaitStatus
	_, err := syscall.Wait4(c.pid, &ws, 0, nil)
	for err == syscall.EINTR {
		_, err = syscall.Wait4(c.pid, &ws, 0, nil)
	}
	reaper.Done(c.pid)
	c.mu.Lock()
	if c.pidfd >= 0 {
		unix.Close(int(c.pidfd))
		c.pidfd = -1
	}
	c.reaped = true
	c.mu.Unlock()
	c.stdin.Close()
	if err != nil {
		return ExitStatus{Code: -1}
	}
	return ExitStatusOf(ws)
}

// ExitStatusOf describes a wait status.
func ExitStatusOf(ws syscall.WaitStatus) ExitStatus {
	if ws.Signaled() {
		return ExitStatus{Code: -1, Signal: ws.Signal(), Core: ws.CoreDump()}
	}
	return ExitStatus{Code: ws.ExitStatus()}
}

// awaitExit returns once the child of pidfd has exited. A wait4 alone
// blocks an OS thread for the child's whole life: with 500 programs that
// was 500 threads and most of the daemon's RSS. After awaitExit, wait4
// reaps at once. When a poller reported the exit (NotifyExit), one look
// tells so; otherwise (no poller took the pidfd) the goroutine parks in the
// runtime's poller on a non-blocking duplicate of it. If that cannot be
// had, it returns at once and wait4 blocks as before. The pidfd itself is
// blocking and stays out of the runtime's poller: a poller of ours
// watches it, and the runtime's kept a record of its own (about 300
// bytes, never given back to the heap) for every child.
func awaitExit(pidfd int) {
	if hasExited(uintptr(pidfd)) {
		return
	}
	dup, err := unix.FcntlInt(uintptr(pidfd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return
	}
	if err := unix.SetNonblock(dup, true); err != nil {
		unix.Close(dup)
		return
	}
	polled := os.NewFile(uintptr(dup), "pidfd")
	defer polled.Close()
	if prc, err := polled.SyscallConn(); err == nil {
		prc.Read(hasExited)
	}
}

// hasExited reports whether the child of pidfd has exited (or cannot be
// looked at), without reaping it: os.Process.Wait or wait4 does that.
func hasExited(pidfd uintptr) bool {
	var info unix.Siginfo
	err := unix.Waitid(unix.P_PIDFD, int(pidfd), &info, unix.WEXITED|unix.WNOHANG|unix.WNOWAIT, nil)
	return err != nil || info.Signo != 0 // WNOHANG leaves info zeroed while the child runs
}

// trampolineArgv makes the child exec this binary, which sets credentials,
// directory and umask, then execs path.
func trampolineArgv(path string, c *Command, cred *syscall.Credential) (string, []string) {
	ids := "-"
	if cred != nil {
		ids = fmt.Sprint(cred.Uid, ":", cred.Gid)
		for _, g := range cred.Groups {
			ids += fmt.Sprint(":", g)
		}
	}
	umask := "-"
	if c.Umask >= 0 {
		umask = strconv.FormatInt(int64(c.Umask), 8)
	}
	deathsig := "-"
	if c.DeathSignal != 0 {
		deathsig = fmt.Sprint(int(c.DeathSignal), ":", os.Getpid())
	}
	return "/proc/self/exe", append([]string{trampolineArg0, ids, c.Dir, umask, deathsig, path}, c.Argv...)
}
