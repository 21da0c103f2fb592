package process

// This file is the contract between the process engine and its users
// (supervisor, rpc). The bodies are filled in by the process engine work.

import (
	"context"
	"errors"
	"io"
	"syscall"
	"time"

	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/events"
)

// Errors returned by Runner methods; rpc maps them to Supervisor faults.
var (
	ErrAlreadyStarted      = errors.New("already started")      // ALREADY_STARTED
	ErrNotRunning          = errors.New("not running")          // NOT_RUNNING
	ErrAbnormalTermination = errors.New("abnormal termination") // ABNORMAL_TERMINATION
	ErrUnknownState        = errors.New("in an unknown process state")
	ErrStdinClosed         = errors.New("stdin closed") // NO_FILE on sendProcessStdin
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
}

// Options are a Runner's collaborators.
type Options struct {
	Spawner   Spawner     // nil: the real fork/exec spawner
	Log       Logger      // main log
	Events    *events.Bus // may be nil
	Stdout    io.Writer   // child stdout sink (log file); nil discards
	Stderr    io.Writer   // child stderr sink; nil discards
	ServerURL string      // SUPERVISOR_SERVER_URL, "" for none
	BaseEnv   []string    // supervisord's environment, KEY=VALUE
}
