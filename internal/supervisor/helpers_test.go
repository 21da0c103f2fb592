package supervisor

import (
	"fmt"
	"syscall"
	"time"

	"github.com/drover/drover/internal/config"
)

// proc returns the config of one process that logs nowhere.
func proc(group, name string, priority int, argv ...string) *config.Process {
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

// program returns a homogeneous group of numprocs processes; with
// numprocs > 1 they are named name_00, name_01, ...
func program(name string, priority, numprocs int, argv ...string) *config.Group {
	g := &config.Group{Name: name, Priority: priority}
	for i := range numprocs {
		pname := name
		if numprocs > 1 {
			pname = fmt.Sprintf("%s_%02d", name, i)
		}
		g.Processes = append(g.Processes, proc(name, pname, 999, argv...))
	}
	return g
}

// heterogeneous returns a [group:name] of the given processes.
func heterogeneous(name string, priority int, procs ...*config.Process) *config.Group {
	for _, p := range procs {
		p.Group = name
	}
	return &config.Group{Name: name, Priority: priority, Processes: procs}
}

func configOf(dir string, groups ...*config.Group) *config.Config {
	return &config.Config{
		Supervisord: config.Supervisord{ChildLogDir: dir, Identifier: "supervisor"},
		Groups:      groups,
	}
}

// names returns the namespecs of ps.
func names(ps []*Process) []string {
	var ns []string
	for _, p := range ps {
		ns = append(ns, p.Namespec)
	}
	return ns
}
