package fleet

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/drover/drover/internal/guard"
	"github.com/drover/drover/internal/process"
	"github.com/drover/drover/internal/supervisor"
	"github.com/drover/drover/internal/wire"
)

// Roller is a group's rolling restart on this node (pool.Pools).
type Roller func(ctx context.Context, group string, batch int) error

// runAction carries out a fleet command on this node's supervisor: what
// supervisorctl start|stop|restart GROUP: would do, or the group's own
// rolling restart.
func runAction(ctx context.Context, sup *supervisor.Supervisor, roll Roller, c command) (string, error) {
	g := sup.Group(c.Group)
	if g == nil {
		return "", fmt.Errorf("no such group %s", c.Group)
	}
	switch c.Action {
	case wire.FleetStart:
		return doAll(ctx, g.Processes, "started", start)
	case wire.FleetStop:
		return doAll(ctx, g.Processes, "stopped", stop)
	case wire.FleetRestart:
		if _, err := doAll(ctx, g.Processes, "stopped", stop); err != nil {
			return "", err
		}
		return doAll(ctx, g.Processes, "restarted", start)
	case wire.FleetRoll:
		if err := roll(ctx, c.Group, max(c.Batch, 1)); err != nil {
			return "", err
		}
		return fmt.Sprintf("%d process(es) rolled", len(g.Processes)), nil
	}
	return "", fmt.Errorf("unknown action %s", c.Action)
}

func start(ctx context.Context, p *supervisor.Process) error {
	if err := p.Start(ctx, true); err != nil && !errors.Is(err, process.ErrAlreadyStarted) {
		return fmt.Errorf("start %s: %w", p.Namespec, err)
	}
	return nil
}

func stop(ctx context.Context, p *supervisor.Process) error {
	if err := p.Stop(ctx, true); err != nil && !errors.Is(err, process.ErrNotRunning) {
		return fmt.Errorf("stop %s: %w", p.Namespec, err)
	}
	return nil
}

// doAll applies f to every process together and waits for them all.
func doAll(ctx context.Context, ps []*supervisor.Process, verb string, f func(context.Context, *supervisor.Process) error) (string, error) {
	errs := make([]error, len(ps))
	var wg sync.WaitGroup
	for i, p := range ps {
		wg.Go(func() {
			if pn := guard.Run("fleet "+verb+" "+p.Namespec, func() { errs[i] = f(ctx, p) }); pn != nil {
				errs[i] = pn
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return "", err
	}
	return fmt.Sprintf("%d process(es) %s", len(ps), verb), nil
}
