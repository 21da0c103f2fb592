package supervisor

// CONTRACT STUB: the supervisor work replaces these bodies (keep the signatures;
// add what is needed). rpc, web and the daemon call only this API.

import (
	"context"
	"errors"

	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/events"
	"github.com/drover/drover/internal/process"
)

// Errors of group-level operations; rpc maps them to faults.
var (
	ErrBadName      = errors.New("bad name")      // BAD_NAME
	ErrAlreadyAdded = errors.New("already added") // ALREADY_ADDED
	ErrStillRunning = errors.New("still running") // STILL_RUNNING
	ErrShuttingDown = errors.New("shutting down") // SHUTDOWN_STATE
)

// Mood is supervisord's own state (getState).
type Mood int

const (
	MoodRestarting Mood = 0
	MoodRunning    Mood = 1
	MoodShutdown   Mood = -1
)

// Process is one supervised process: its runner plus its log channels.
type Process struct {
	*process.Runner
	// Namespec is "name" when group == name, else "group:name".
	Namespec string
}

// StdoutLogPath / StderrLogPath return the log file path ("" for NONE).
func (p *Process) StdoutLogPath() string { panic("unimplemented") }
func (p *Process) StderrLogPath() string { panic("unimplemented") }

// ClearLogs truncates both logs (clearProcessLogs).
func (p *Process) ClearLogs() error { panic("unimplemented") }

// Group is an active process group.
type Group struct {
	Config    *config.Group
	Processes []*Process // sorted by (priority, name)
}

// Supervisor owns the active groups and the pending config.
type Supervisor struct{}

// Mood returns the daemon state.
func (s *Supervisor) Mood() Mood { panic("unimplemented") }

// Groups returns the active groups sorted by (priority, name).
func (s *Supervisor) Groups() []*Group { panic("unimplemented") }

// Lookup resolves a namespec: "name" (group and process name equal), "group:name",
// "group:*" / "group:" (wildcard=true, every process of the group).
// ErrBadName when nothing matches.
func (s *Supervisor) Lookup(namespec string) (procs []*Process, wildcard bool, err error) {
	panic("unimplemented")
}

// Group returns the active group called name, or nil.
func (s *Supervisor) Group(name string) *Group { panic("unimplemented") }

// AllProcesses returns every process sorted by group name then process name
// (getAllProcessInfo order).
func (s *Supervisor) AllProcesses() []*Process { panic("unimplemented") }

// PendingConfig returns the pending (last read) config.
func (s *Supervisor) PendingConfig() *config.Config { panic("unimplemented") }

// Reread re-reads the config file (reloadConfig): names of added, changed, removed groups.
// A parse error is returned as is and changes nothing.
func (s *Supervisor) Reread() (added, changed, removed []string, err error) {
	panic("unimplemented")
}

// AddGroup activates a pending group (ErrBadName, ErrAlreadyAdded, ErrShuttingDown).
func (s *Supervisor) AddGroup(ctx context.Context, name string) error { panic("unimplemented") }

// RemoveGroup drops a stopped active group (ErrBadName, ErrStillRunning).
func (s *Supervisor) RemoveGroup(ctx context.Context, name string) error { panic("unimplemented") }

// Shutdown asks for an orderly shutdown; Restart for a reload. Both return at once.
func (s *Supervisor) Shutdown() { panic("unimplemented") }
func (s *Supervisor) Restart()  { panic("unimplemented") }

// Options are the Supervisor's collaborators.
type Options struct {
	Log     process.Logger  // main log
	Events  *events.Bus     // may be nil
	Spawner process.Spawner // nil: the real spawner
	// Load re-reads the configuration file (used by Reread); same file, same CLI overrides.
	Load      func() (*config.Config, error)
	ServerURL string   // default SUPERVISOR_SERVER_URL for children
	BaseEnv   []string // supervisord's environment at start
}

// New returns a Supervisor for cfg. It starts nothing.
func New(cfg *config.Config, opts Options) *Supervisor { panic("unimplemented") }

// Run starts the autostart processes (priority order) and supervises until
// Shutdown or Restart is called or ctx is done; then it stops every group,
// one at a time in reverse priority order, waits until no child is left, and
// returns restart=true when Restart was asked for.
func (s *Supervisor) Run(ctx context.Context) (restart bool, err error) { panic("unimplemented") }

// ReopenLogs reopens every child log (SIGUSR2).
func (s *Supervisor) ReopenLogs() { panic("unimplemented") }
