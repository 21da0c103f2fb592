package ctl

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/drover/drover/internal/client"
	"github.com/drover/drover/internal/wire"
)

// rollPoll is how often a roll handed over by an upgrade is looked at.
const rollPoll = 500 * time.Millisecond

// rollThroughUpgrade makes call, one drover.rolling* call rolling group.
// If the daemon was upgraded while it ran, its answer was lost with the
// old image's servers, but the new image finishes the roll
// (docs/upgrade.md): this then waits until drover.getPools no longer shows
// the group rolling and answers as the call would have, nil when every
// process of the group is RUNNING, a FAILED fault otherwise. Without an
// upgrade, the call's error stands.
func (c *controller) rollThroughUpgrade(group string, call func() error) error {
	before, verr := c.cl.Version(c.ctx)
	err := call()
	if err == nil || client.FaultCode(err) != 0 || verr != nil {
		return err
	}
	now, ok := c.answerAgain()
	if !ok || now.Images == before.Images {
		return err
	}
	c.output("%s: drover %s took the roll over in an upgrade; waiting for it to finish", group, now.Build)
	for {
		pools, perr := c.cl.Pools(c.ctx)
		if perr != nil {
			return perr
		}
		i := slices.IndexFunc(pools, func(p client.PoolInfo) bool { return p.Group == group })
		if i < 0 || pools[i].Rolling == "" {
			break
		}
		select {
		case <-c.ctx.Done():
			return c.ctx.Err()
		case <-time.After(rollPoll):
		}
	}
	infos, err := c.cl.AllProcessInfo(c.ctx)
	if err != nil {
		return err
	}
	var down []string
	for _, p := range infos {
		if p.Group == group && p.State != wire.ProcessRunning {
			down = append(down, p.Name+" "+p.StateName)
		}
	}
	if len(down) > 0 {
		return &client.Fault{Code: wire.FaultFailed, String: wire.FaultText(wire.FaultFailed,
			fmt.Sprintf("the roll ended with %s; see the main log", strings.Join(down, ", ")))}
	}
	return nil
}

// answerAgain waits, at most upgradeWait, until the daemon answers
// drover.getVersion; false if it does not (or is gone).
func (c *controller) answerAgain() (client.DroverVersion, bool) {
	deadline := time.Now().Add(upgradeWait)
	for {
		v, err := c.cl.Version(c.ctx)
		switch {
		case err == nil:
			return v, true
		case errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ENOENT) || time.Now().After(deadline) || c.ctx.Err() != nil:
			return client.DroverVersion{}, false
		}
		time.Sleep(100 * time.Millisecond)
	}
}
