package ctl

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/drover/drover/internal/client"
	"github.com/drover/drover/internal/wire"
)

// doFleet is `fleet status [GROUP] [--json]` and the fleet actions
// (doFleetAction).
func (c *controller) doFleet(arg string) error {
	words, jsonOut := cutFlag(strings.Fields(arg), "--json")
	if len(words) == 0 {
		c.output("Error: fleet needs a subcommand: fleet status [GROUP] [--json]; %s", fleetActionUsage)
		c.exitStatus = exitInvalidArgs
		return nil
	}
	switch sub := words[0]; sub {
	case "status":
		if len(words) > 2 {
			c.output("Error: fleet status takes at most one group name")
			c.exitStatus = exitInvalidArgs
			return nil
		}
		return c.doFleetStatus(words[1:], jsonOut)
	case wire.FleetStart, wire.FleetStop, wire.FleetRestart:
		return c.doFleetAction(sub, words[1:])
	case "update":
		c.output("Error: fleet update is not supported: run update on each node (docs/fleet.md)")
		c.exitStatus = exitUnimplemented
	default:
		c.output("Error: unknown fleet subcommand %s: fleet status [GROUP] [--json]; %s", sub, fleetActionUsage)
		c.exitStatus = exitInvalidArgs
	}
	return nil
}

// fleetErr handles an error of a drover.*Fleet* call: stop is true when
// there was one; a fault (not Drover, FAILED) is reported here and err is
// nil, any other error is returned as it is.
func (c *controller) fleetErr(err error) (stop bool, _ error) {
	switch {
	case err == nil:
		return false, nil
	case c.notDrover(err, "drover fleet methods"):
		return true, nil
	case client.FaultCode(err) == wire.FaultFailed:
		c.output("Error: %s", strings.TrimPrefix(client.FaultString(err), "FAILED: "))
		c.exitStatus = exitGeneric
		return true, nil
	}
	return true, err
}

func (c *controller) doFleetStatus(group []string, jsonOut bool) error {
	nodes, err := c.cl.Fleet(c.ctx)
	if stop, err := c.fleetErr(err); stop {
		return err
	}
	if len(group) == 1 {
		nodes = onlyGroup(nodes, group[0])
		if !slices.ContainsFunc(nodes, func(n wire.FleetNode) bool { return len(n.Groups) > 0 }) {
			c.output("%s: ERROR (no such group on any node)", group[0])
			c.exitStatus = exitGeneric
			return nil
		}
	}
	if jsonOut {
		return writeJSON(c.out, nodes)
	}
	if len(group) == 1 {
		c.showFleetGroup(nodes)
		return nil
	}
	c.showFleet(nodes)
	return nil
}

// onlyGroup keeps, of each node that has it, the named group.
func onlyGroup(nodes []wire.FleetNode, name string) []wire.FleetNode {
	var out []wire.FleetNode
	for _, n := range nodes {
		i := slices.IndexFunc(n.Groups, func(g wire.FleetGroup) bool { return g.Name == name })
		if i < 0 {
			continue
		}
		n.Groups = n.Groups[i : i+1]
		out = append(out, n)
	}
	return out
}

// showFleet prints one line per node, then a line per pool.
func (c *controller) showFleet(nodes []wire.FleetNode) {
	if len(nodes) == 0 {
		c.output("no node in the fleet yet")
		return
	}
	width := 16
	for _, n := range nodes {
		width = max(width, len(shown(n.Name)))
	}
	c.output("%-*s %-6s %-10s %-10s %s", width, "NODE", "STATE", "BEAT", "VERSION", "PROCESSES")
	for _, n := range nodes {
		line := fmt.Sprintf("%-*s %-6s %-10s %-10s %s", width, shown(n.Name), shown(n.State), beatAge(n.AgeMS), shown(n.Version), stateCounts(n.Counts))
		if len(n.Labels) > 0 {
			line += "  [" + labelList(n.Labels) + "]"
		}
		c.output("%s", strings.TrimRight(line, " "))
		for _, g := range n.Groups {
			if p := g.Pool; p != nil {
				line := fmt.Sprintf("%-*s pool %s: %d workers (%d busy), target %d [%d-%d] %s", width, "", shown(g.Name),
					p.Workers, p.Busy, p.Target, p.Min, p.Max, shown(p.Queue))
				if p.FleetMax > 0 {
					line = strings.TrimRight(line, " ") + "; " + fleetShare(p.FleetMax, p.FleetTotal, p.Leased)
				}
				c.output("%s", strings.TrimRight(line, " "))
				if q := p.QueueFigures; q != nil {
					figures := queueFigures(q.Ready, q.Due, q.Delayed, q.Reserved, q.Expired, time.Duration(q.OldestWaitMS)*time.Millisecond)
					if q.Unreachable {
						figures = "UNREACHABLE; last sample: " + figures
					}
					c.output("%-*s queue %s: %s", width, "", shown(p.Queue), figures)
				}
			}
		}
	}
}

// showFleetGroup prints one line per process of the group, node by node.
func (c *controller) showFleetGroup(nodes []wire.FleetNode) {
	for _, n := range nodes {
		for _, p := range n.Groups[0].Processes {
			line := fmt.Sprintf("%-16s %-6s %-30s %-10s", shown(n.Name), shown(n.State), shown(n.Groups[0].Name+":"+p.Name), shown(p.State))
			if p.PID > 0 {
				line += fmt.Sprintf(" pid %d", p.PID)
			}
			c.output("%s", strings.TrimRight(line, " "))
		}
	}
}

// shown makes text from the fleet's snapshots, which anyone allowed to
// write to Redis can forge, safe to print: a control character (a forged
// line, a terminal escape sequence) appears escaped, as \n or \x1b.
func shown(s string) string {
	if !strings.ContainsFunc(s, unicode.IsControl) {
		return s
	}
	q := strconv.Quote(s)
	return q[1 : len(q)-1]
}

func beatAge(ms int64) string {
	return (time.Duration(ms) * time.Millisecond).Round(100*time.Millisecond).String() + " ago"
}

// stateCounts is "RUNNING 3, BACKOFF 1": the states in Supervisor's order.
func stateCounts(counts map[string]int) string {
	var parts []string
	for _, st := range []wire.ProcessState{wire.ProcessRunning, wire.ProcessStarting, wire.ProcessBackoff,
		wire.ProcessStopping, wire.ProcessStopped, wire.ProcessExited, wire.ProcessFatal, wire.ProcessUnknown} {
		if n := counts[st.String()]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", st, n))
		}
	}
	if parts == nil {
		return "-"
	}
	return strings.Join(parts, ", ")
}

func labelList(labels map[string]string) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		parts = append(parts, shown(k+"="+labels[k]))
	}
	return strings.Join(parts, ",")
}

// queueFigures describes a pool's queue sample, for fleet status and pools.
func queueFigures(ready, due, delayed, reserved, expired int, oldestWait time.Duration) string {
	return fmt.Sprintf("ready %d  due %d  delayed %d  in flight %d  expired %d  oldest wait %s",
		ready, due, delayed, reserved, expired, oldestWait.Round(time.Second))
}

// fleetShare describes a fleet_max pool's leases, for fleet status and pools.
func fleetShare(limit, total, leased int) string {
	return fmt.Sprintf("fleet_max %d: %d leased in the fleet, %d here", limit, total, leased)
}
