package ctl

import (
	"bufio"
	"fmt"
	"strings"

	"github.com/drover/drover/internal/client"
	"github.com/drover/drover/internal/wire"
)

func (c *controller) doStatus(arg string) error {
	names, jsonOut := cutFlag(strings.Fields(arg), "--json")
	ok, err := c.upcheck()
	if err != nil {
		return err
	}
	if !ok {
		c.exitStatus = exitStatusUnknown
		return nil
	}
	all, err := c.cl.AllProcessInfo(c.ctx)
	if err != nil {
		return err
	}
	matching := all
	if len(names) > 0 && !hasAll(names) {
		matching = nil
		for _, name := range names {
			group, process, whole := splitNamespec(name)
			found := false
			for _, info := range all {
				if info.Group == group && (whole || info.Name == process) {
					found = true
					matching = append(matching, info)
				}
			}
			if !found {
				msg := name + ": ERROR (no such process)"
				if whole {
					msg = group + ": ERROR (no such group)"
				}
				if jsonOut {
					fmt.Fprintln(c.errOut, msg)
				} else {
					c.output("%s", msg)
				}
				c.exitStatus = exitStatusUnknown
			}
		}
	}
	if jsonOut {
		if err := writeJSON(c.out, statusJSON(matching)); err != nil {
			return err
		}
	} else {
		c.showStatuses(matching)
	}
	for _, info := range matching {
		if info.State.IsStopped() {
			c.exitStatus = exitStatusNotRunning
		}
	}
	return nil
}

// showStatuses prints the status table: the name column is as wide as the
// longest namespec (at least 30) plus 3.
func (c *controller) showStatuses(infos []client.ProcessInfo) {
	width := 30
	for _, info := range infos {
		width = max(width, len(info.Namespec()))
	}
	// Written a page at a time, not a write(2) a line: 500 programs were
	// 500 calls. (The whole table in one buffer cost more page faults.)
	table := bufio.NewWriter(c.out)
	for _, info := range infos {
		fmt.Fprintf(table, "%-*s%-10s%s\n", width+3, info.Namespec(), info.StateName, info.Description)
	}
	table.Flush()
}

// cutFlag removes every occurrence of flag from words.
func cutFlag(words []string, flag string) ([]string, bool) {
	kept := words[:0:0]
	found := false
	for _, w := range words {
		if w == flag {
			found = true
			continue
		}
		kept = append(kept, w)
	}
	return kept, found
}

// resultLine formats one result struct (or a fault turned into one) for
// start, stop, signal and clear; ok is the success verb.
func resultLine(group, name string, code int, description, ok string) (string, error) {
	ns := client.Namespec(group, name)
	reasons := map[string]map[int]string{
		"started": {wire.FaultBadName: "no such process", wire.FaultNoFile: "no such file",
			wire.FaultNotExecutable: "file is not executable", wire.FaultAlreadyStarted: "already started",
			wire.FaultSpawnError: "spawn error", wire.FaultAbnormalTermination: "abnormal termination"},
		"cleared": {wire.FaultBadName: "no such process", wire.FaultFailed: "failed"},
	}
	signalled := map[int]string{wire.FaultBadName: "no such process", wire.FaultBadSignal: "bad signal name", wire.FaultNotRunning: "not running"}
	table, isStartOrClear := reasons[ok]
	if !isStartOrClear {
		table = signalled
	}
	switch reason, known := table[code]; {
	case code == wire.FaultSuccess:
		return ns + ": " + ok, nil
	case known:
		return ns + ": ERROR (" + reason + ")", nil
	case !isStartOrClear && code == wire.FaultFailed:
		return description, nil
	}
	return "", &pyError{class: "ValueError", value: fmt.Sprintf("Unknown result code %d for %s", code, ns), where: pySupervisor + "supervisorctl.py line: 735"}
}

// groupAction runs the shared shape of start/stop/signal/clear: "all" uses
// allMethod; "g:*" uses groupMethod; a single name uses procMethod.
type groupAction struct {
	verb         string // success word: started, stopped, signalled, cleared
	ignored      int    // fault code that does not change the exit status
	allMethod    string
	groupMethod  string // "" when the action has no group form (clear)
	procMethod   string
	extra        []any // parameters after the name (signal's signal)
	badGroupExit int   // exit status for "g:*" with an unknown group
}

func (c *controller) runAction(a groupAction, names []string) error {
	if hasAll(names) {
		results, err := c.cl.Results(c.ctx, a.allMethod, a.extra...)
		if err != nil {
			return err
		}
		return c.printResults(a, results)
	}
	for _, name := range names {
		group, process, whole := splitNamespec(name)
		if whole && a.groupMethod != "" {
			results, err := c.cl.Results(c.ctx, a.groupMethod, append([]any{group}, a.extra...)...)
			if client.FaultCode(err) == wire.FaultBadName {
				c.output("%s: ERROR (no such group)", group)
				c.exitStatus = a.badGroupExit
				continue
			}
			if err != nil {
				c.exitStatus = exitGeneric
				return err
			}
			if err := c.printResults(a, results); err != nil {
				return err
			}
			continue
		}
		if whole {
			process = "None" // Python formats the missing process name as None
		}
		err := c.rpc(a.procMethod, append([]any{name}, a.extra...)...)
		code := client.FaultCode(err)
		if err != nil && code == 0 {
			return err
		}
		if err == nil {
			code = wire.FaultSuccess
		}
		line, lerr := resultLine(group, process, code, client.FaultString(err), a.verb)
		if lerr != nil {
			return lerr
		}
		c.output("%s", line)
		c.setExitFromFault(code, a.ignored)
	}
	return nil
}

func (c *controller) printResults(a groupAction, results []client.Result) error {
	for _, r := range results {
		line, err := resultLine(r.Group, r.Name, r.Status, r.Description, a.verb)
		if err != nil {
			return err
		}
		c.output("%s", line)
		c.setExitFromFault(r.Status, a.ignored)
	}
	return nil
}

var (
	startAction = groupAction{verb: "started", ignored: wire.FaultAlreadyStarted,
		allMethod: "supervisor.startAllProcesses", groupMethod: "supervisor.startProcessGroup",
		procMethod: "supervisor.startProcess", badGroupExit: exitInvalidArgs}
	stopAction = groupAction{verb: "stopped", ignored: wire.FaultNotRunning,
		allMethod: "supervisor.stopAllProcesses", groupMethod: "supervisor.stopProcessGroup",
		procMethod: "supervisor.stopProcess", badGroupExit: exitGeneric}
	clearAction = groupAction{verb: "cleared", ignored: -1,
		allMethod: "supervisor.clearAllProcessLogs", procMethod: "supervisor.clearProcessLogs"}
)

// requireNames prints "Error: <cmd> requires a process name" and the help
// when names is empty.
func (c *controller) requireNames(cmd string, names []string, exit int) bool {
	if len(names) > 0 {
		return true
	}
	c.output("Error: %s requires a process name", cmd)
	c.exitStatus = exit
	c.printHelp(cmd)
	return false
}

func (c *controller) doStart(arg string) error {
	if ok, err := c.upcheck(); !ok {
		return err
	}
	names := strings.Fields(arg)
	if !c.requireNames("start", names, exitInvalidArgs) {
		return nil
	}
	return c.runAction(startAction, names)
}

func (c *controller) doStop(arg string) error {
	if ok, err := c.upcheck(); !ok {
		return err
	}
	names := strings.Fields(arg)
	if !c.requireNames("stop", names, exitGeneric) {
		return nil
	}
	return c.runAction(stopAction, names)
}

func (c *controller) doRestart(arg string) error {
	if ok, err := c.upcheck(); !ok {
		return err
	}
	if !c.requireNames("restart", strings.Fields(arg), exitGeneric) {
		return nil
	}
	if err := c.doStop(arg); err != nil {
		return err
	}
	return c.doStart(arg)
}

func (c *controller) doSignal(arg string) error {
	if ok, err := c.upcheck(); !ok {
		return err
	}
	args := strings.Fields(arg)
	if len(args) < 2 {
		c.output("Error: signal requires a signal name and a process name")
		c.printHelp("signal")
		c.exitStatus = exitGeneric
		return nil
	}
	a := groupAction{verb: "signalled", ignored: -1,
		allMethod: "supervisor.signalAllProcesses", groupMethod: "supervisor.signalProcessGroup",
		procMethod: "supervisor.signalProcess", extra: []any{args[0]}, badGroupExit: exitGeneric}
	return c.runAction(a, args[1:])
}

func (c *controller) doClear(arg string) error {
	if ok, err := c.upcheck(); !ok {
		return err
	}
	names := strings.Fields(arg)
	if !c.requireNames("clear", names, exitGeneric) {
		return nil
	}
	return c.runAction(clearAction, names)
}

func (c *controller) doPid(arg string) error {
	if ok, err := c.upcheck(); !ok {
		return err
	}
	names := strings.Fields(arg)
	switch {
	case len(names) == 0:
		pid, err := c.cl.PID(c.ctx)
		if err != nil {
			return err
		}
		c.output("%d", pid)
	case hasAll(names):
		infos, err := c.cl.AllProcessInfo(c.ctx)
		if err != nil {
			return err
		}
		for _, info := range infos {
			c.output("%d", info.PID)
		}
	default:
		for _, name := range names {
			info, err := c.cl.ProcessInfo(c.ctx, name)
			if err != nil {
				c.exitStatus = exitGeneric
				if client.FaultCode(err) != wire.FaultBadName {
					return err
				}
				c.output("No such process %s", name)
				continue
			}
			c.output("%d", info.PID)
			if info.PID == 0 {
				c.exitStatus = exitNotRunning
			}
		}
	}
	return nil
}
