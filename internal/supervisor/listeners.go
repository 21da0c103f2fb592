package supervisor

import (
	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/eventlistener"
	"github.com/drover/drover/internal/events"
	"github.com/drover/drover/internal/process"
)

// newPool returns the event listener pool of gc, nil for other groups.
func (s *Supervisor) newPool(gc *config.Group) *eventlistener.Pool {
	if gc.Kind != config.KindEventListener {
		return nil
	}
	return s.hub.NewPool(gc)
}

// eventWriters wraps the output writers of pc for events: an event
// listener's stdout speaks the listener protocol; any other channel may
// have capture mode or PROCESS_LOG events.
func (s *Supervisor) eventWriters(pc *config.Process, pool *eventlistener.Pool, opts *process.Options) {
	if pool != nil {
		opts.Stdout = pool.Stdout(pc.Name, opts.Stdout)
	} else {
		opts.Stdout = eventlistener.NewOutput(s.bus, s.opts.Log, s.daemon.LogLevel, pc, "stdout", opts.Stdout, s.daemon.StripANSI)
	}
	opts.Stderr = eventlistener.NewOutput(s.bus, s.opts.Log, s.daemon.LogLevel, pc, "stderr", opts.Stderr, s.daemon.StripANSI)
}

// publishGroupAdded publishes PROCESS_GROUP_ADDED for g, its pool (if any)
// receiving events from this one on, as a Supervisor pool subscribes when
// its group is added.
func (s *Supervisor) publishGroupAdded(g *Group) {
	if g.pool != nil {
		s.hub.AddPool(g.pool)
	}
	s.bus.Publish(events.ProcessGroupAdded{Group: g.Config.Name})
}

// publishGroupRemoved drops g's pool (if any) and publishes PROCESS_GROUP_REMOVED.
func (s *Supervisor) publishGroupRemoved(g *Group) {
	if g.pool != nil {
		s.hub.RemovePool(g.pool)
	}
	s.bus.Publish(events.ProcessGroupRemoved{Group: g.Config.Name})
}
