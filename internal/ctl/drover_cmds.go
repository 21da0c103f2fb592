package ctl

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/drover/drover/internal/client"
	"github.com/drover/drover/internal/wire"
)

// addDroverCommands adds Drover's own commands to Supervisor's command
// table, and the --rolling forms of restart and update.
func addDroverCommands(commands map[string]command) {
	restart, update, reload, version := commands["restart"], commands["update"], commands["reload"], commands["version"]
	commands["restart"] = func(c *controller, arg string) error {
		if batch, rest, rolling, ok := c.rollingArgs("restart", arg); rolling {
			if !ok {
				return nil
			}
			return c.doRollingRestart(batch, rest)
		}
		return restart(c, arg)
	}
	commands["update"] = func(c *controller, arg string) error {
		if batch, rest, rolling, ok := c.rollingArgs("update", arg); rolling {
			if !ok {
				return nil
			}
			return c.doRollingUpdate(batch, rest, update)
		}
		return update(c, arg)
	}
	commands["reload"] = func(c *controller, arg string) error {
		if strings.TrimSpace(arg) == keepUnchangedFlag {
			return c.doReloadKeeping()
		}
		return reload(c, arg)
	}
	commands["version"] = func(c *controller, arg string) error {
		if strings.TrimSpace(arg) == droverVersionFlag {
			return c.doDroverVersion()
		}
		return version(c, arg)
	}
	commands["pools"] = (*controller).doPools
	// reload, restart and update keep Supervisor's help texts (output is compared
	// with supervisorctl's); docs/autoscaling.md documents --rolling,
	// docs/upgrade.md --keep-unchanged.
	helpTexts["pools"] = "pools\t\t\tShow each worker pool: workers, queue depth, target and last decision"
	commands["bounds"] = (*controller).doBounds
	helpTexts["bounds"] = "bounds <group> <min> <max>\tSet a scaling pool's size bounds until its config changes"
	commands["upgrade"] = (*controller).doUpgrade
	helpTexts["upgrade"] = "upgrade\t\t\tExec the drover binary now on disk in place of the daemon; no program restarts"
	commands["fleet"] = (*controller).doFleet
	helpTexts["fleet"] = "fleet status [GROUP] [--json]\tShow every node of the fleet ([fleet]), or GROUP's processes across nodes\n" +
		"fleet start|stop|restart GROUP [--label k=v ...]\tStart, stop or restart GROUP on every node (that has the labels), a result per node\n" +
		"fleet restart --rolling GROUP [--batch N] [--label k=v ...]\tRoll GROUP node by node (N at a time), each node rolling its own workers, waiting for capacity"
}

// rollingArgs reads `--rolling [--batch N]` from arg. rolling says whether
// --rolling was given; ok is false after a usage error (already printed).
func (c *controller) rollingArgs(cmd, arg string) (batch int, rest []string, rolling, ok bool) {
	batch = 1
	fields := strings.Fields(arg)
	for i := 0; i < len(fields); i++ {
		f := fields[i]
		switch {
		case f == "--rolling":
			rolling = true
		case f == "--batch" && i+1 < len(fields):
			i++
			f = "--batch=" + fields[i]
			fallthrough
		case strings.HasPrefix(f, "--batch="):
			n, err := strconv.Atoi(strings.TrimPrefix(f, "--batch="))
			if err != nil || n < 1 {
				c.output("Error: --batch needs a positive number")
				c.exitStatus = exitGeneric
				return 0, nil, true, false
			}
			batch = n
		default:
			rest = append(rest, f)
		}
	}
	if !rolling && batch != 1 {
		c.output("Error: --batch only goes with --rolling")
		c.exitStatus = exitGeneric
		return 0, nil, true, false
	}
	return batch, rest, rolling, true
}

// doRollingRestart rolls each named group ("g", "g:" or "g:*").
func (c *controller) doRollingRestart(batch int, names []string) error {
	if ok, err := c.upcheck(); !ok {
		return err
	}
	if !c.requireNames("restart", names, exitGeneric) {
		return nil
	}
	if slices.Contains(names, "all") {
		return c.rollAll(batch)
	}
	for _, name := range names {
		group := strings.TrimSuffix(strings.TrimSuffix(name, "*"), ":")
		if err := c.rollThroughUpgrade(group, func() error { return c.cl.RollingRestart(c.ctx, group, batch) }); err != nil {
			if client.FaultCode(err) == 0 {
				return err
			}
			c.rollingError(group, err)
			continue
		}
		c.output("%s: restarted (rolling, %d at a time)", group, batch)
	}
	return nil
}

// rollAll rolls every group; a group that cannot roll (an event listener
// pool, a program without %(process_num) in process_name) is restarted the
// plain way, as `update --rolling` replaces it, so that `all` means all.
func (c *controller) rollAll(batch int) error {
	infos, err := c.cl.AllProcessInfo(c.ctx)
	if err != nil {
		return err
	}
	for _, g := range groupNames(infos) {
		err := c.rollThroughUpgrade(g, func() error { return c.cl.RollingRestart(c.ctx, g, batch) })
		switch {
		case err == nil:
			c.output("%s: restarted (rolling, %d at a time)", g, batch)
		case client.FaultCode(err) == 0:
			return err
		case errors.Is(err, client.ErrCannotRoll):
			c.output("%s: cannot roll (%s); restarting it at once", g, rollFailure(err))
			if err := c.doRestart(g + ":*"); err != nil {
				return err
			}
		default:
			c.rollingError(g, err)
		}
	}
	return nil
}

// rollFailure is the reason of a drover.rolling* fault: the detail of a
// refusal or of a failure.
func rollFailure(err error) string {
	if errors.Is(err, client.ErrCannotRoll) {
		return strings.TrimPrefix(client.FaultString(err), wire.FaultText(wire.FaultCannotRoll, wire.CannotRollPrefix))
	}
	return strings.TrimPrefix(client.FaultString(err), wire.FaultText(wire.FaultFailed)+": ")
}

func (c *controller) rollingError(group string, err error) {
	if client.FaultCode(err) == wire.FaultBadName {
		c.output("%s: ERROR (no such group)", group)
	} else {
		c.output("%s: ERROR (%s)", group, client.FaultString(err))
	}
	c.exitStatus = exitGeneric
}

// doRollingUpdate rereads the config and rolls each changed group (all, or
// those named); then the plain update adds, removes and replaces what is
// left, including a changed group that could not roll.
func (c *controller) doRollingUpdate(batch int, names []string, update command) error {
	_, changed, _, err := c.cl.ReloadConfig(c.ctx)
	if err != nil {
		return update(c, strings.Join(names, " ")) // prints the error as update does
	}
	selected := map[string]bool{}
	for _, n := range names {
		selected[n] = true
	}
	if selected["all"] {
		clear(selected)
	}
	for _, g := range changed {
		if len(selected) > 0 && !selected[g] {
			continue
		}
		if err := c.rollThroughUpgrade(g, func() error { return c.cl.RollingUpdate(c.ctx, g, batch) }); err != nil {
			if client.FaultCode(err) == 0 {
				return err
			}
			c.output("%s: cannot roll (%s); replacing it at once", g, rollFailure(err))
			continue
		}
		c.output("%s: updated process group (rolling, %d at a time)", g, batch)
	}
	return update(c, strings.Join(names, " "))
}

// keepUnchangedFlag makes reload keep the unchanged programs running.
const keepUnchangedFlag = "--keep-unchanged"

// doReloadKeeping is `reload --keep-unchanged`: drover.reloadKeeping, one
// line per group in update's words.
func (c *controller) doReloadKeeping() error {
	r, err := c.cl.ReloadKeeping(c.ctx)
	if err != nil {
		c.exitStatus = exitGeneric
		switch client.FaultCode(err) {
		case wire.FaultShutdownState:
			c.output("ERROR: already shutting down")
		case wire.FaultCantReread:
			c.output("ERROR: %s", client.FaultString(err))
		case wire.FaultUnknownMethod:
			c.notDrover(err, "drover.reloadKeeping")
		default:
			return err
		}
		return nil
	}
	if r.FullReload != "" {
		c.output("Restarted supervisord (%s)", r.FullReload)
		return nil
	}
	for _, line := range []struct {
		names []string
		what  string
	}{{r.Kept, "kept running"}, {r.Removed, "removed process group"}, {r.Restarted, "updated process group"},
		{r.Rolled, "updated process group (rolling, 1 at a time)"}, {r.Added, "added process group"}} {
		for _, g := range line.names {
			c.output("%s: %s", g, line.what)
		}
	}
	for _, f := range r.Failed {
		c.output("ERROR: %s", f)
		c.exitStatus = exitGeneric
	}
	return nil
}

// notDrover reports whether err is the fault of a server without method,
// a Drover extension; if so it says so and sets the exit status.
func (c *controller) notDrover(err error, method string) bool {
	if client.FaultCode(err) != wire.FaultUnknownMethod {
		return false
	}
	c.output("Error: the server is not Drover (no %s)", method)
	c.exitStatus = exitUnimplemented
	return true
}

// droverVersionFlag makes version print the daemon's Drover build
// (drover.getVersion) instead of the Supervisor version it is compatible with.
const droverVersionFlag = "--drover"

// doDroverVersion is `version --drover`.
func (c *controller) doDroverVersion() error {
	v, err := c.cl.Version(c.ctx)
	if err != nil {
		if c.notDrover(err, "drover.getVersion") {
			return nil
		}
		return err
	}
	c.output("drover %s", v.Build)
	return nil
}

// upgradeWait bounds how long `upgrade` waits for the new build to answer.
const upgradeWait = 60 * time.Second

// doUpgrade is `upgrade`: drover.upgrade, then drover.getVersion until the
// new image answers (a fallback to the old one, or an exec that failed in
// the old one, is reported as a failure).
func (c *controller) doUpgrade(arg string) error {
	if strings.TrimSpace(arg) != "" {
		c.output("Error: upgrade accepts no arguments")
		c.exitStatus = exitGeneric
		return nil
	}
	from, to, err := c.cl.Upgrade(c.ctx)
	if err != nil {
		c.exitStatus = exitGeneric
		switch client.FaultCode(err) {
		case wire.FaultUnknownMethod:
			c.output("Error: the server is not a Drover that can upgrade (no drover.upgrade)")
			c.exitStatus = exitUnimplemented
		case wire.FaultFailed:
			c.output("ERROR: %s", client.FaultString(err))
		default:
			return err
		}
		return nil
	}
	c.output("upgrading drover %s to drover %s", from.Build, to)
	deadline := time.Now().Add(upgradeWait)
	for time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		v, err := c.cl.Version(c.ctx)
		switch {
		case errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ENOENT):
			// The sockets are held open across the switch: refused means
			// the process is gone (a new image that died in its take-over).
			c.output("ERROR: the daemon is gone: %v; see the main log", err)
			c.exitStatus = exitGeneric
			return nil
		case err == nil && v.Images == from.Images && v.UpgradeFailed != "":
			c.output("ERROR: the upgrade did not happen, drover %s runs on with every program: %s", v.Build, v.UpgradeFailed)
			c.exitStatus = exitGeneric
			return nil
		case err != nil || v.Images == from.Images:
			continue // not switched yet
		case v.Images == from.Images+1 && v.Build == to:
			c.output("upgraded: drover %s is running, no program restarted", v.Build)
			return nil
		}
		c.output("ERROR: the take-over failed and drover %s took the programs back; see the main log", v.Build)
		c.exitStatus = exitGeneric
		return nil
	}
	c.output("ERROR: no answer from drover %s within %s; see the main log", to, upgradeWait)
	c.exitStatus = exitGeneric
	return nil
}

// doPools prints drover.getPools.
func (c *controller) doPools(arg string) error {
	pools, err := c.cl.Pools(c.ctx)
	if err != nil {
		if c.notDrover(err, "drover.getPools") {
			return nil
		}
		return err
	}
	only := map[string]bool{}
	for _, n := range strings.Fields(arg) {
		only[n] = true
	}
	for _, p := range pools {
		name := p.Group
		if len(only) > 0 && !only[name] {
			continue
		}
		size := fmt.Sprintf("%d workers", p.Workers)
		if p.Workers == 1 {
			size = "1 worker"
		}
		if p.Busy > 0 {
			size += fmt.Sprintf(" (%d busy)", p.Busy)
		}
		if p.Draining > 0 {
			size += fmt.Sprintf(" (+%d draining)", p.Draining)
		}
		if !p.Scaling {
			c.output("%-24s %-28s fixed (numprocs %d)%s", name, size, p.Max, rollingNote(p))
			continue
		}
		queue := "queue ok"
		if p.SampledAt == 0 {
			queue = "queue not sampled yet"
		} else if !p.QueueOK {
			queue = "queue UNREACHABLE: " + p.QueueError
		}
		c.output("%-24s %-28s target %d [%d-%d]  %s%s", name, size, p.Target, p.Min, p.Max, queue, rollingNote(p))
		c.output("%-24s %s  (%s)", "", queueFigures(p.Ready, p.Due, p.Delayed, p.Reserved, p.Expired, time.Duration(p.OldestWait)*time.Second), p.Queue)
		if p.FleetMax > 0 {
			c.output("%-24s %s", "", fleetShare(p.FleetMax, p.FleetTotal, p.FleetLeased))
		}
		if d := p.Decision; d != "" {
			c.output("%-24s last decision: %s", "", d)
		}
	}
	return nil
}

func rollingNote(p client.PoolInfo) string {
	if r := p.Rolling; r != "" {
		return "  ROLLING: " + r
	}
	return ""
}

// doBounds sets a scaling pool's run-time bounds (drover.setPoolBounds).
func (c *controller) doBounds(arg string) error {
	f := strings.Fields(arg)
	var lo, hi int
	var err error
	if len(f) == 3 {
		if lo, err = strconv.Atoi(f[1]); err == nil {
			hi, err = strconv.Atoi(f[2])
		}
	}
	if len(f) != 3 || err != nil {
		c.output("Error: bounds needs a group name and two numbers: bounds <group> <min> <max>")
		c.exitStatus = exitGeneric
		return nil
	}
	switch err := c.cl.SetPoolBounds(c.ctx, f[0], lo, hi); {
	case err == nil:
		c.output("%s: bounds set to [%d-%d]", f[0], lo, hi)
	case c.notDrover(err, "drover.setPoolBounds"):
	case errors.Is(err, client.ErrBadName):
		c.output("%s: ERROR (no such pool)", f[0])
		c.exitStatus = exitGeneric
	case client.FaultCode(err) != 0:
		c.output("%s: ERROR (%s)", f[0], client.FaultString(err))
		c.exitStatus = exitGeneric
	default:
		return err
	}
	return nil
}
