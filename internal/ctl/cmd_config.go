package ctl

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"

	"github.com/drover/drover/internal/client"
	"github.com/drover/drover/internal/wire"
)

// noArgs prints "Error: <cmd> accepts no arguments" and the help when arg
// is not empty.
func (c *controller) noArgs(cmd, arg string) bool {
	if arg == "" {
		return true
	}
	c.output("Error: %s accepts no arguments", cmd)
	c.exitStatus = exitGeneric
	c.printHelp(cmd)
	return false
}

func (c *controller) doAvail(arg string) error {
	words, jsonOut := cutFlag(strings.Fields(arg), "--json")
	if !c.noArgs("avail", strings.Join(words, " ")) {
		return nil
	}
	infos, err := c.cl.AllConfigInfo(c.ctx)
	if client.FaultCode(err) == wire.FaultShutdownState {
		c.exitStatus = exitGeneric
		c.output("ERROR: supervisor shutting down")
		return nil
	}
	if err != nil {
		c.exitStatus = exitGeneric
		return err
	}
	if jsonOut {
		return writeJSON(c.out, availJSON(infos))
	}
	for _, info := range infos {
		inUse, auto := "avail", "manual"
		if info.InUse {
			inUse = "in use"
		}
		if info.Autostart {
			auto = "auto"
		}
		c.output("%-32s %-9s %-9s %d:%d", info.Namespec(), inUse, auto, info.GroupPriority, info.ProcessPriority)
	}
	return nil
}

func (c *controller) doReread(arg string) error {
	if !c.noArgs("reread", arg) {
		return nil
	}
	added, changed, removed, err := c.cl.ReloadConfig(c.ctx)
	if err != nil {
		c.exitStatus = exitGeneric
		switch client.FaultCode(err) {
		case wire.FaultShutdownState:
			c.output("ERROR: supervisor shutting down")
		case wire.FaultCantReread:
			c.output("ERROR: %s", client.FaultString(err))
		default:
			return err
		}
		return nil
	}
	changes := map[string]string{}
	for _, set := range []struct {
		names []string
		what  string
	}{{added, "available"}, {changed, "changed"}, {removed, "disappeared"}} {
		for _, n := range set.names {
			changes[n] = set.what
		}
	}
	if len(changes) == 0 {
		c.output("No config updates to processes")
		return nil
	}
	names := make([]string, 0, len(changes))
	for n := range changes {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		c.output("%s: %s", n, changes[n])
	}
	return nil
}

func (c *controller) doAdd(arg string) error {
	for _, name := range strings.Fields(arg) {
		err := c.rpc("supervisor.addProcessGroup", name)
		switch client.FaultCode(err) {
		case 0:
			if err != nil {
				c.exitStatus = exitGeneric
				return err
			}
			c.output("%s: added process group", name)
		case wire.FaultShutdownState:
			c.output("ERROR: shutting down")
			c.exitStatus = exitGeneric
		case wire.FaultAlreadyAdded:
			c.output("ERROR: process group already active")
		case wire.FaultBadName:
			c.output("ERROR: no such process/group: %s", name)
			c.exitStatus = exitGeneric
		default:
			c.exitStatus = exitGeneric
			return err
		}
	}
	return nil
}

func (c *controller) doRemove(arg string) error {
	for _, name := range strings.Fields(arg) {
		err := c.rpc("supervisor.removeProcessGroup", name)
		if err == nil {
			c.output("%s: removed process group", name)
			continue
		}
		c.exitStatus = exitGeneric
		switch client.FaultCode(err) {
		case wire.FaultStillRunning:
			c.output("ERROR: process/group still running: %s", name)
		case wire.FaultBadName:
			c.output("ERROR: no such process/group: %s", name)
		default:
			return err
		}
	}
	return nil
}

// doUpdate is Supervisor's client-side update: reread, then handle removed
// groups, then changed ones (stopped, removed and re-added as a whole),
// then added ones, limited to the named groups unless none or "all" given.
func (c *controller) doUpdate(arg string) error {
	added, changed, removed, err := c.cl.ReloadConfig(c.ctx)
	if err != nil {
		c.exitStatus = exitGeneric
		if client.FaultCode(err) == wire.FaultShutdownState {
			c.output("ERROR: already shutting down")
			return nil
		}
		return err
	}
	selected := map[string]bool{}
	for _, g := range strings.Fields(arg) {
		selected[g] = true
	}
	if selected["all"] {
		clear(selected)
	}
	if len(selected) > 0 {
		infos, err := c.cl.AllProcessInfo(c.ctx)
		if err != nil {
			return err
		}
		known := map[string]bool{}
		for _, info := range infos {
			known[info.Group] = true
		}
		for _, g := range added {
			known[g] = true
		}
		// Python iterates a set here; sorted order keeps output stable.
		for _, g := range sortedKeys(selected) {
			if !known[g] {
				c.output("ERROR: no such group: %s", g)
				c.exitStatus = exitGeneric
			}
		}
	}
	skip := func(g string) bool { return len(selected) > 0 && !selected[g] }
	for _, g := range removed {
		if skip(g) {
			continue
		}
		results, err := c.cl.Results(c.ctx, "supervisor.stopProcessGroup", g)
		if err != nil {
			return err
		}
		c.output("%s: stopped", g)
		failed := false
		for _, r := range results {
			failed = failed || r.Status == wire.FaultFailed
		}
		if failed {
			c.output("%s: has problems; not removing", g)
			c.exitStatus = exitGeneric
			continue
		}
		if err := c.rpc("supervisor.removeProcessGroup", g); err != nil {
			return err
		}
		c.output("%s: removed process group", g)
	}
	for _, g := range changed {
		if skip(g) {
			continue
		}
		if err := c.rpc("supervisor.stopProcessGroup", g); err != nil {
			return err
		}
		c.output("%s: stopped", g)
		if err := c.rpc("supervisor.removeProcessGroup", g); err != nil {
			return err
		}
		if err := c.rpc("supervisor.addProcessGroup", g); err != nil {
			return err
		}
		c.output("%s: updated process group", g)
	}
	for _, g := range added {
		if skip(g) {
			continue
		}
		if err := c.rpc("supervisor.addProcessGroup", g); err != nil {
			return err
		}
		c.output("%s: added process group", g)
	}
	return nil
}

func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// confirm asks a y/N question in interactive mode; non-interactive runs
// proceed without asking. pyLine is where Python would raise EOFError.
func (c *controller) confirm(question string, pyLine int) (bool, error) {
	if !c.interactive {
		return true, nil
	}
	answer, err := c.term.ReadLine(c.ctx, question)
	if err != nil {
		return false, eofError(err, pyLine)
	}
	return strings.HasPrefix(strings.ToLower(answer), "y"), nil
}

// eofError turns end of input while prompting into Python's EOFError.
func eofError(err error, pyLine int) error {
	if errors.Is(err, io.EOF) {
		return &pyError{class: "EOFError", value: "EOF when reading a line", where: fmt.Sprintf("%ssupervisorctl.py line: %d", pySupervisor, pyLine)}
	}
	return err
}

func (c *controller) doReload(arg string) error {
	if !c.noArgs("reload", arg) {
		return nil
	}
	if ok, err := c.confirm("Really restart the remote supervisord process y/N? ", 1027); !ok {
		return err
	}
	err := c.rpc("supervisor.restart")
	if err != nil {
		c.exitStatus = exitGeneric
		if client.FaultCode(err) == wire.FaultShutdownState {
			c.output("ERROR: already shutting down")
			return nil
		}
		return err
	}
	c.output("Restarted supervisord")
	return nil
}

func (c *controller) doShutdown(arg string) error {
	if !c.noArgs("shutdown", arg) {
		return nil
	}
	if ok, err := c.confirm("Really shut the remote supervisord process down y/N? ", 987); !ok {
		return err
	}
	err := c.rpc("supervisor.shutdown")
	switch {
	case err == nil:
		c.output("Shut down")
	case client.FaultCode(err) == wire.FaultShutdownState:
		c.output("ERROR: already shutting down")
	case isRefused(err):
		c.exitStatus = exitGeneric
		c.output("ERROR: %s refused connection (already shut down?)", c.cl.URL())
	case isNoSocket(err):
		c.exitStatus = exitGeneric
		c.output("ERROR: %s no such file (already shut down?)", c.cl.URL())
	default:
		c.exitStatus = exitGeneric
		return err
	}
	return nil
}

func (c *controller) doVersion(arg string) error {
	if !c.noArgs("version", arg) {
		return nil
	}
	if ok, err := c.upcheck(); !ok {
		return err
	}
	v, err := c.cl.SupervisorVersion(c.ctx)
	if err != nil {
		return err
	}
	c.output("%s", v)
	return nil
}

func (c *controller) doOpen(arg string) error {
	target := strings.TrimSpace(arg)
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "unix" && u.Scheme != "http") {
		c.output("ERROR: url must be http:// or unix://")
		c.exitStatus = exitGeneric
		return nil
	}
	c.s.serverURL = target
	c.cl = client.New(target, c.s.username, c.s.password)
	saved := c.exitStatus
	defer func() { c.exitStatus = saved }()
	return c.doStatus("")
}
