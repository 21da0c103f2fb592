package process

// This file is the contract between the process engine and its users
// (supervisor, rpc). The bodies are filled in by the process engine work.

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
	"time"

	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/events"
	"github.com/drover/drover/internal/sysnames"
)

// Errors returned by Runner methods; rpc maps them to Supervisor faults.
var (
	ErrAlreadyStarted      = errors.New("already started")      // ALREADY_STARTED
	ErrNotRunning          = errors.New("not running")          // NOT_RUNNING
	ErrAbnormalTermination = errors.New("abnormal termination") // ABNORMAL_TERMINATION
	ErrUnknownState        = errors.New("in an unknown process state")
	ErrStdinClosed         = errors.New("stdin closed") // NO_FILE on sendProcessStdin
	// ErrStdinFull: the child does not read its stdin and the queue is full.
	ErrStdinFull = errors.New("stdin queue full: the process does not read its stdin")
	// ErrRunnerDone is returned by commands sent to a Runner whose Run is not running.
	ErrRunnerDone = errors.New("process runner not running")
)

// SpawnError says why a process could not be started.
type SpawnError struct {
	Kind SpawnErrorKind
	Msg  string // Supervisor's text, e.g. "can't find command '/x'"
}

func (e *SpawnError) Error() string { return e.Msg }

// SpawnErrorKind classifies SpawnError for the fault mapping.
type SpawnErrorKind int

const (
	SpawnFailed        SpawnErrorKind = iota // SPAWN_ERROR (e.g. exited too quickly)
	SpawnNoFile                              // NO_FILE
	SpawnNotExecutable                       // NOT_EXECUTABLE
)

// Logger receives the main-log lines of the engine.
type Logger interface {
	Logf(level config.LogLevel, format string, args ...any)
}

// Info is a snapshot of one process, the facts behind getProcessInfo.
type Info struct {
	Name, Group string
	State       State
	Start, Stop time.Time // zero if never
	PID         int
	ExitStatus  int // -1 when killed by a signal
	SpawnErr    string
	StdoutLog   string
	StderrLog   string
	// Waiting says why a start is held back (Drover's depends_on/wait_for
	// gates, set by the supervisor), e.g. "waiting for redis (STARTING)";
	// "" when nothing waits. The state stays Supervisor's.
	Waiting string
	// LastExit is how the last child ended (zero before any exit); unlike
	// ExitStatus it keeps the signal, for a container's exit code.
	LastExit ExitStatus
}

// Options are a Runner's collaborators.
type Options struct {
	Spawner Spawner     // nil: the real fork/exec spawner
	Log     Logger      // main log
	Events  *events.Bus // may be nil
	Stdout  io.Writer   // child stdout sink (log file); nil discards
	Stderr  io.Writer   // child stderr sink; nil discards
	// Stdout and Stderr are written from pump goroutines, and a pump of a
	// previous child may still run (a grandchild holding the pipe) when the
	// next child starts: they must be safe for concurrent use.
	ServerURL string   // SUPERVISOR_SERVER_URL, "" for none
	BaseEnv   []string // supervisord's environment, KEY=VALUE
	// StdoutLog and StderrLog are the log paths Info reports (an AUTO
	// log's generated name), "" for none: the configuration has AUTO.
	StdoutLog, StderrLog string
	// BeforeSpawn, if set, runs before each spawn attempt: Supervisor
	// creates a log file named by path only when it spawns the process.
	BeforeSpawn func()
	// ChildStdin, if set, is called before each spawn for the file the child
	// gets as fd 0 instead of a stdin pipe (a FastCGI group's listening
	// socket). release is called once that child has been reaped, or at
	// once if the spawn fails. An error fails the spawn: its text is the
	// spawnerr.
	ChildStdin func() (f *os.File, release func(), err error)
}

// SpawnWriter is an Options.Stdout or Options.Stderr that keeps state for
// each child (the event listener protocol, capture mode, pids in output
// events), as Supervisor makes new dispatchers for every spawn. Before each
// spawn the Runner calls ForSpawn and gives the new child's output to the
// ChildWriter it returns; after a successful spawn it calls Spawned.
type SpawnWriter interface {
	io.Writer
	ForSpawn() ChildWriter
}

// ChildWriter receives the output of one child.
type ChildWriter interface {
	io.Writer
	// Spawned gives the child's pid. Output may be written before it is called.
	Spawned(pid int)
}

// Spawner starts children. The real one (used when Options.Spawner is nil)
// forks and execs; tests substitute channel-based fakes.
type Spawner interface {
	// Check runs the pre-spawn checks of startProcess (command parsable,
	// found, executable) without spawning; it returns a *SpawnError.
	Check(c *Command) error
	// Spawn starts the child. Its error is a *SpawnError whose Msg becomes spawnerr.
	Spawn(c *Command) (Child, error)
}

// Child is a started child process.
type Child interface {
	PID() int
	// Signal sends sig to the child, or to its process group (-pgid) when group is set.
	// It returns syscall.ESRCH when there is nothing left to signal.
	Signal(sig syscall.Signal, group bool) error
	// Wait blocks until the child has exited and been reaped. It never waits
	// for output pipes to close: a grandchild holding stdout does not delay it.
	Wait() ExitStatus
	// Stdin is the write end of the child's stdin pipe (nil if none).
	Stdin() io.Writer
}

// Command is everything a Spawner needs for one spawn, built by the Runner
// from the process config and Options.
type Command struct {
	Name, Group    string
	Argv           []string // as split from the command line; nil when ArgvErr is set
	ArgvErr        string
	Env            []string // complete child environment, KEY=VALUE
	Dir            string   // "" inherits
	Umask          int      // -1 inherits
	UID, GID       int      // -1: keep supervisord's identity
	Groups         []int
	RedirectStderr bool
	Stdout, Stderr io.Writer // nil discards; written from pump goroutines
	// DeathSignal is sent to the child by the kernel when the daemon dies
	// (even by SIGKILL), so no worker outlives it; 0 for none.
	DeathSignal syscall.Signal
	// Stdin, if set, is the child's fd 0 instead of a pipe; the child then
	// has nothing to write to (Child.Stdin fails with EPIPE, as Supervisor's
	// sendProcessStdin to a FastCGI child gives NO_FILE).
	Stdin *os.File
}

// ExitStatus is how a child ended.
type ExitStatus struct {
	Code   int            // exit code, -1 when killed by a signal
	Signal syscall.Signal // the killing signal, 0 for a normal exit
	Core   bool           // a core was dumped
}

// String returns Supervisor's description, e.g. "exit status 1" or "terminated by SIGTERM".
func (e ExitStatus) String() string {
	if e.Signal == 0 {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	s := "terminated by " + sysnames.SignalName(e.Signal)
	if e.Core {
		s += " (core dumped)"
	}
	return s
}
