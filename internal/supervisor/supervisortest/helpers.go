package supervisortest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/drover/drover/internal/config"
)

// Proc returns the config of one process that logs nowhere.
func Proc(group, name string, priority int, argv ...string) *config.Process {
	if len(argv) == 0 {
		argv = []string{"/bin/sleep", "1000"}
	}
	return &config.Process{
		Name: name, Group: group, ProgramName: group,
		Command: fmt.Sprint(argv), Argv: argv,
		Umask: -1, UID: -1, GID: -1,
		Priority: priority, Autostart: true,
		StartSecs: time.Second, StartRetries: 3, ExitCodes: []int{0},
		StopSignal: syscall.SIGTERM, StopWait: 10 * time.Second,
		Stdout: config.ChildLog{Kind: config.LogNone},
		Stderr: config.ChildLog{Kind: config.LogNone},
	}
}

// Program returns a homogeneous group of numprocs processes; with
// numprocs > 1 they are named name_00, name_01, ...
func Program(name string, priority, numprocs int, argv ...string) *config.Group {
	g := &config.Group{Name: name, Priority: priority}
	for i := range numprocs {
		pname := name
		if numprocs > 1 {
			pname = fmt.Sprintf("%s_%02d", name, i)
		}
		g.Processes = append(g.Processes, Proc(name, pname, 999, argv...))
	}
	return g
}

// Heterogeneous returns a [group:name] of the given processes.
func Heterogeneous(name string, priority int, procs ...*config.Process) *config.Group {
	for _, p := range procs {
		p.Group = name
	}
	return &config.Group{Name: name, Priority: priority, Processes: procs}
}

// ConfigOf returns a config of groups with its child logs in dir.
func ConfigOf(dir string, groups ...*config.Group) *config.Config {
	return &config.Config{
		Supervisord: config.Supervisord{ChildLogDir: dir, Identifier: "supervisor"},
		Groups:      groups,
	}
}

// Lines is a process.Logger that keeps the messages starting with Prefix.
type Lines struct {
	Prefix string

	mu   sync.Mutex
	msgs []string
}

// Logf keeps the message if it starts with Prefix.
func (l *Lines) Logf(_ config.LogLevel, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	l.mu.Lock()
	defer l.mu.Unlock()
	if strings.HasPrefix(msg, l.Prefix) {
		l.msgs = append(l.msgs, msg)
	}
}

// Msgs returns the messages kept, in order.
func (l *Lines) Msgs() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.msgs)
}

// Runnable is what Started runs: a *supervisor.Supervisor.
type Runnable interface {
	Run(ctx context.Context) (restart bool, err error)
	Ready() <-chan struct{}
}

// Started runs s in the background, inside a synctest bubble, and waits
// until its groups exist; the returned channel yields Run's restart result.
func Started(t *testing.T, s Runnable) <-chan bool {
	t.Helper()
	result := make(chan bool, 1)
	go func() {
		restart, err := s.Run(t.Context())
		if err != nil {
			t.Errorf("Run: %v", err)
		}
		result <- restart
	}()
	<-s.Ready()
	synctest.Wait()
	return result
}

// LookupOne returns the one process lookup (a Supervisor's Lookup) finds
// for namespec, failing t otherwise.
func LookupOne[P any](t *testing.T, lookup func(string) ([]P, bool, error), namespec string) P {
	t.Helper()
	ps, _, err := lookup(namespec)
	if err != nil || len(ps) != 1 {
		t.Fatalf("Lookup(%s) = %v, %v", namespec, ps, err)
	}
	return ps[0]
}
