package ctl

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/drover/drover/internal/wire"
)

const (
	// fleetPoll is how often the ctl reads the results of a fleet command.
	fleetPoll = 200 * time.Millisecond
	// capacityWait bounds the wait for a rolled node's group to be
	// RUNNING again before the next batch.
	capacityWait = 2 * time.Minute
)

// fleetActionUsage is the usage of the fleet actions.
const fleetActionUsage = "fleet start|stop|restart GROUP [--label k=v ...]; fleet restart --rolling GROUP [--batch N] [--label k=v ...]"

// fleetAction is a parsed `fleet start|stop|restart ...`.
type fleetAction struct {
	action  string
	group   string
	labels  map[string]string
	rolling bool
	batch   int // nodes at a time, with rolling
}

func parseFleetAction(action string, words []string) (fleetAction, error) {
	a := fleetAction{action: action, labels: map[string]string{}, batch: 1}
	batchGiven := false
	for i := 0; i < len(words); i++ {
		w := words[i]
		flag, value, inline := strings.Cut(w, "=")
		needValue := func() (string, error) {
			if inline {
				return value, nil
			}
			if i+1 >= len(words) {
				return "", fmt.Errorf("%s needs a value", w)
			}
			i++
			return words[i], nil
		}
		switch {
		case w == "--rolling":
			a.rolling = true
		case flag == "--label":
			v, err := needValue()
			if err != nil {
				return a, err
			}
			k, val, ok := strings.Cut(v, "=")
			if !ok || k == "" {
				return a, fmt.Errorf("--label takes key=value, not %s", v)
			}
			a.labels[k] = val
		case flag == "--batch":
			v, err := needValue()
			if err != nil {
				return a, err
			}
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return a, fmt.Errorf("--batch takes a number of nodes of at least 1, not %s", v)
			}
			a.batch, batchGiven = n, true
		case strings.HasPrefix(w, "--"):
			return a, fmt.Errorf("unknown option %s", w)
		case a.group != "":
			return a, fmt.Errorf("fleet %s takes one group name", action)
		default:
			a.group = w
		}
	}
	switch {
	case a.group == "":
		return a, fmt.Errorf("fleet %s needs a group name", action)
	case a.rolling && action != wire.FleetRestart:
		return a, fmt.Errorf("--rolling goes with fleet restart only")
	case batchGiven && !a.rolling:
		return a, fmt.Errorf("--batch goes with --rolling only")
	}
	return a, nil
}

// targets are the nodes, up or stale, that have the group and every
// label asked for, by name.
func (a fleetAction) targets(nodes []wire.FleetNode) []wire.FleetNode {
	var out []wire.FleetNode
	for _, n := range onlyGroup(nodes, a.group) {
		if n.State == wire.FleetGone {
			continue
		}
		if !slices.ContainsFunc(slices.Collect(maps.Keys(a.labels)), func(k string) bool {
			v, ok := n.Labels[k]
			return !ok || v != a.labels[k]
		}) {
			out = append(out, n)
		}
	}
	return out
}

// doFleetAction is `fleet start|stop|restart GROUP [--label k=v ...]` and
// `fleet restart --rolling GROUP [--batch N]`: signed commands through the
// daemon's Redis, a line per node as each reports, then a summary. Exit 1
// unless every node did it.
func (c *controller) doFleetAction(action string, words []string) error {
	a, err := parseFleetAction(action, words)
	if err != nil {
		c.output("Error: %v: %s", err, fleetActionUsage)
		c.exitStatus = exitInvalidArgs
		return nil
	}
	nodes, err := c.cl.Fleet(c.ctx)
	if stop, err := c.fleetErr(err); stop {
		return err
	}
	targets := a.targets(nodes)
	if len(targets) == 0 {
		c.output("%s: ERROR (no node that is up%s has this group)", a.group, labelWords(a.labels))
		c.exitStatus = exitGeneric
		return nil
	}
	names := make([]string, len(targets))
	for i, n := range targets {
		names[i] = n.Name
	}
	if a.rolling {
		return c.fleetRoll(a, targets)
	}
	c.output("fleet %s %s: sending to %d node(s): %s", a.action, a.group, len(names), strings.Join(names, ", "))
	results, stop, err := c.fleetCommand(a.action, a.group, names)
	if stop {
		return err
	}
	c.fleetSummary(results, names)
	return nil
}

func labelWords(labels map[string]string) string {
	if len(labels) == 0 {
		return ""
	}
	return " with " + labelList(labels)
}

// fleetCommand sends a command to the named nodes and waits for each one's
// result, printing a line per node as it arrives. A node that has not
// received it when it expires, or that goes away while carrying it out,
// gets a result made up here, saying so. stop says the command could not
// be sent or followed (see fleetErr).
func (c *controller) fleetCommand(action, group string, names []string) (_ map[string]wire.FleetResult, stop bool, _ error) {
	sent, err := c.cl.FleetSend(c.ctx, action, group, names, 1)
	if stop, err := c.fleetErr(err); stop {
		return nil, true, err
	}
	final := map[string]wire.FleetResult{}
	started := map[string]bool{}
	for {
		results, err := c.cl.FleetResults(c.ctx, sent.ID)
		if stop, err := c.fleetErr(err); stop {
			return nil, true, err
		}
		expired := time.Now().UnixMilli() > sent.Expires
		var gone map[string]bool
		for _, name := range names {
			if _, done := final[name]; done {
				continue
			}
			r, reported := results[name]
			switch {
			case reported && r.State == wire.FleetRunning && !started[name]:
				started[name] = true
				c.output("%s: %s %s ...", name, action, group)
			case reported && r.State == wire.FleetRunning:
				if gone == nil {
					gone = c.goneNodes()
				}
				if gone[name] {
					c.fleetResult(final, name, wire.FleetResult{State: wire.FleetFailed, Message: "the node went away before it reported"})
				}
			case reported:
				c.fleetResult(final, name, r)
			case expired:
				c.fleetResult(final, name, wire.FleetResult{State: wire.FleetRefused, Message: "no answer: the command expired before the node received it"})
			}
		}
		if len(final) == len(names) {
			return final, false, nil
		}
		select {
		case <-c.ctx.Done():
			return nil, true, c.ctx.Err()
		case <-time.After(fleetPoll):
		}
	}
}

// goneNodes are the nodes the fleet view no longer has up or stale; an
// unreadable view says none.
func (c *controller) goneNodes() map[string]bool {
	nodes, err := c.cl.Fleet(c.ctx)
	if err != nil {
		return nil
	}
	gone := map[string]bool{}
	for _, n := range nodes {
		gone[n.Name] = n.State == wire.FleetGone
	}
	return gone
}

func (c *controller) fleetResult(final map[string]wire.FleetResult, name string, r wire.FleetResult) {
	final[name] = r
	line := fmt.Sprintf("%s: %s", name, strings.ToUpper(r.State))
	if r.Message != "" {
		line += " (" + r.Message + ")"
	}
	c.output("%s", line)
}

// fleetSummary prints the count of each outcome; exit 1 unless all done.
func (c *controller) fleetSummary(final map[string]wire.FleetResult, names []string) {
	counts := map[string]int{}
	for _, name := range names {
		counts[final[name].State]++
	}
	var parts []string
	for _, st := range []string{wire.FleetDone, wire.FleetFailed, wire.FleetRefused, ""} {
		if n := counts[st]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, cmp.Or(st, "not run")))
		}
	}
	c.output("%d node(s): %s", len(names), strings.Join(parts, ", "))
	if counts[wire.FleetDone] != len(names) {
		c.exitStatus = exitGeneric
	}
}

// fleetRoll is `fleet restart --rolling GROUP`: a.batch nodes at a time,
// each rolls its own workers (drover.rollingRestart through a fleet
// command); before the next batch, the fleet view must show each node of
// the batch with at least as many RUNNING processes of the group as it had
// before. A failure stops the roll; the nodes not reached are reported.
func (c *controller) fleetRoll(a fleetAction, targets []wire.FleetNode) error {
	c.output("fleet rolling restart of %s on %d node(s), %d at a time", a.group, len(targets), a.batch)
	final := map[string]wire.FleetResult{}
	var names []string
	for _, n := range targets {
		names = append(names, n.Name)
	}
	batches := (len(targets) + a.batch - 1) / a.batch
	for i := 0; i < len(targets); i += a.batch {
		batch := targets[i:min(i+a.batch, len(targets))]
		bnames := names[i:min(i+a.batch, len(targets))]
		c.output("batch %d/%d: %s", i/a.batch+1, batches, strings.Join(bnames, ", "))
		began := time.Now()
		results, stop, err := c.fleetCommand(wire.FleetRoll, a.group, bnames)
		if stop {
			return err
		}
		failed := false
		for _, n := range batch {
			r := results[n.Name]
			if r.State == wire.FleetDone {
				if err := c.waitCapacity(n, a.group); err != nil {
					r = wire.FleetResult{State: wire.FleetFailed, Message: err.Error()}
					c.output("%s: FAILED (%v)", n.Name, err)
				} else {
					r.Message += fmt.Sprintf(", capacity back after %s", time.Since(began).Round(100*time.Millisecond))
				}
			}
			final[n.Name] = r
			failed = failed || r.State != wire.FleetDone
		}
		if failed && i+a.batch < len(targets) {
			c.output("the roll stops: %d node(s) not rolled", len(targets)-i-a.batch)
			break
		}
	}
	c.output("report:")
	for _, name := range names {
		r, ok := final[name]
		switch {
		case !ok:
			c.output("  %-16s not rolled", name)
		case r.Message != "":
			c.output("  %-16s %s (%s)", name, r.State, r.Message)
		default:
			c.output("  %-16s %s", name, r.State)
		}
	}
	c.fleetSummary(final, names)
	return nil
}

// waitCapacity waits until the fleet view shows node n with at least as
// many RUNNING processes of the group as it had in n (before the roll).
func (c *controller) waitCapacity(n wire.FleetNode, group string) error {
	want := running(n.Groups[0])
	deadline := time.Now().Add(capacityWait)
	for {
		nodes, err := c.cl.Fleet(c.ctx)
		if err == nil {
			for _, now := range onlyGroup(nodes, group) {
				if now.Name == n.Name && now.State == wire.FleetUp && running(now.Groups[0]) >= want {
					c.output("%s: capacity back (%d RUNNING)", n.Name, running(now.Groups[0]))
					return nil
				}
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not have %d RUNNING again within %s", group, want, capacityWait)
		}
		select {
		case <-c.ctx.Done():
			return c.ctx.Err()
		case <-time.After(fleetPoll):
		}
	}
}

func running(g wire.FleetGroup) int {
	n := 0
	for _, p := range g.Processes {
		if p.State == wire.ProcessRunning.String() {
			n++
		}
	}
	return n
}
