package supervisor

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/events"
	"github.com/drover/drover/internal/guard"
	"github.com/drover/drover/internal/process"
)

// shutdownReportEvery is how often a shutdown names the processes it waits for.
const shutdownReportEvery = 3 * time.Second

// Run begins the runner of every process of the active groups,
// publishes PROCESS_GROUP_ADDED for each and SUPERVISOR_STATE_CHANGE_RUNNING
// (neither for what an upgrade handed over: to a listener, nothing started),
// and spawns the autostart processes at once in (group priority, name) then
// (process priority, name) order (a [group:x] in programs= order, as
// Supervisor's loop does), then has the AUTO log files created (autoFiles).
// It then supervises until Shutdown or Restart is called or ctx is done (a
// shutdown); then it stops every group, one at a time in reverse priority
// order, waits until no child is left, closes the child logs and returns
// restart=true when Restart was asked for.
// Run may be called once. It returns New's error, if any, at once.
func (s *Supervisor) Run(ctx context.Context) (restart bool, err error) {
	// Checked first: a second Run must not close ready again.
	if s.ran.Swap(true) {
		return false, errors.New("run supervisor: already run")
	}
	if s.initErr != nil {
		s.setMood(MoodShutdown)
		close(s.ready)
		return false, s.initErr
	}
	s.opMu.Lock()
	s.mu.Lock()
	// The runners outlive ctx: a cancelled ctx means an orderly shutdown.
	runCtx, cancelRunners := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelRunners()
	s.runCtx = runCtx
	gs := s.groupsLocked()
	for _, g := range gs {
		s.startLocked(g)
	}
	mood := s.mood
	s.mu.Unlock()
	s.runners.Go(func() { guard.Run("event listener hub", func() { s.hub.Run(runCtx) }) })
	for _, loop := range s.opts.Hooks.Loops {
		s.runners.Go(func() { guard.Run("supervisor loop", func() { loop(runCtx, s) }) })
	}
	// ends must see every state change and handles each at once: a large
	// buffer, so that only a stuck watcher would ever lose one.
	endsSub := s.bus.Subscribe(events.Named("ends"), events.Kinds("PROCESS_STATE"), events.Buffer(16384))
	s.ends.s, s.ends.sub, s.ends.restarting = s, endsSub, map[*Process]bool{}
	s.runners.Go(func() { guard.Run("end watcher", func() { s.ends.watch(runCtx) }) })
	for _, g := range gs {
		if !g.tookOver {
			s.publishGroupAdded(g)
		}
	}
	if mood == MoodRunning { // else Shutdown or Restart came before Run
		if !s.tookOver {
			s.bus.Publish(events.SupervisorRunning{})
		}
		for _, g := range gs {
			g.autostart(ctx)
		}
	}
	s.autoFiles.start()
	close(s.ready)
	s.opMu.Unlock()

	select {
	case <-ctx.Done():
		s.Shutdown()
	case <-s.stop:
	}
	s.stopAll(context.WithoutCancel(ctx))
	cancelRunners()
	s.mu.Lock()
	for _, g := range s.groups {
		if g.act.started {
			g.act.stopLocked()
		}
	}
	s.mu.Unlock()
	s.runners.Wait()
	return s.Mood() == MoodRestarting, nil
}

// Shutdown asks for an orderly shutdown. It returns at once. Shutdown
// during a reload's stop phase turns it into a shutdown.
func (s *Supervisor) Shutdown() { s.requestStop(MoodShutdown) }

// Restart asks for a reload, once the configuration file has been read and
// validated again (with Options.Load): an invalid one is logged CRIT and
// returned, and nothing stops. This is a deliberate difference: Supervisor
// stops every program and exits, so one typo takes the box's workers down.
// The validated configuration is NextConfig's. Restart during a shutdown or
// reload is ignored. It returns once the reload is asked for. With
// reload_keeps_unchanged=true it is a ReloadKeeping applied in the
// background (a full reload only when that one decides so).
func (s *Supervisor) Restart() error {
	if s.Mood() != MoodRunning {
		return nil
	}
	if s.daemon.ReloadKeepsUnchanged && s.opts.Load != nil {
		return s.restartKeeping()
	}
	var cfg *config.Config
	if s.opts.Load != nil {
		var err error
		if cfg, err = s.opts.Load(); err != nil {
			s.logRefusedReload(err)
			return err
		}
	}
	s.reloadWith(cfg)
	return nil
}

func (s *Supervisor) logRefusedReload(err error) {
	s.Logf(config.LevelCritical, "reload refused, still running with the current configuration: %v", err)
}

// reloadWith asks for a full reload with the validated cfg.
func (s *Supervisor) reloadWith(cfg *config.Config) {
	s.mu.Lock()
	s.next = cfg
	s.mu.Unlock()
	s.requestStop(MoodRestarting)
}

// NextConfig is the configuration the accepted Restart validated (nil
// without Options.Load): the one to reload with.
func (s *Supervisor) NextConfig() *config.Config {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.next
}

func (s *Supervisor) requestStop(m Mood) {
	s.mu.Lock()
	from := s.mood
	if m == MoodRestarting && from != MoodRunning {
		s.mu.Unlock()
		return
	}
	s.mood = m
	s.mu.Unlock()
	if from == MoodRunning {
		s.bus.Publish(events.SupervisorStopping{})
	}
	select {
	case s.stop <- struct{}{}:
	default:
	}
}

func (s *Supervisor) setMood(m Mood) {
	s.mu.Lock()
	s.mood = m
	s.mu.Unlock()
}

// stopAll stops the groups one at a time, highest priority number first
// (ties: latest activated first), each only once the previous one is fully
// stopped. The mood already refuses new group changes; opMu waits out the
// one in flight. State changes arrive as events. Like supervisord once its
// mood leaves RUNNING, nothing is restarted any more, in any group.
func (s *Supervisor) stopAll(ctx context.Context) {
	// Events only wake the loop, which reads the states itself: a lost
	// one costs nothing.
	sub := s.bus.Subscribe(events.Named("shutdown"), events.Kinds("PROCESS_STATE"), events.Buffer(256))
	defer sub.Close()
	s.opMu.Lock()
	s.mu.Lock()
	gs := s.groupsLocked()
	// Supervisor's report walks its groups in the order they were added.
	byActivation := s.activeByActivationLocked()
	s.mu.Unlock()
	s.opMu.Unlock()
	for _, g := range gs {
		for _, p := range g.Processes {
			_ = p.HoldRestarts(ctx)
		}
	}
	// A timer, not a poll: the "waiting for ... to die" line is due every
	// few seconds even when no state changes.
	report := time.NewTicker(shutdownReportEvery)
	defer report.Stop()
	var reported time.Time
	for i := len(gs) - 1; i >= 0; i-- {
		// Supervisor's first report comes in the loop turn that signals
		// the first group, before it reaps anything: it names every process
		// not stopped then, less a BACKOFF one of that group (FATAL at
		// once). Taken before the stop, so no exit of a child that dies of
		// its stopsignal at once, handled meanwhile, can leave it out.
		var first []string
		if i == len(gs)-1 {
			first = s.unstopped(byActivation, gs[i])
		}
		gs[i].stopForShutdown(ctx)
		if len(first) > 0 {
			s.Logf(config.LevelInfo, "waiting for %s to die", strings.Join(first, ", "))
			reported = time.Now()
		}
		for {
			reported = s.reportShutdown(byActivation, reported)
			if gs[i].stopped() {
				break
			}
			select {
			case <-sub.Ready():
				sub.Next()
			case <-report.C:
			}
		}
	}
}

// unstopped names the processes of gs, in order, not in a stopped state,
// less those of stopping in BACKOFF (which its stop makes FATAL).
func (s *Supervisor) unstopped(gs []*Group, stopping *Group) []string {
	var names []string
	for _, g := range gs {
		for _, p := range g.asKept() {
			st := p.Info().State
			if !st.IsStopped() && !(g == stopping && st == process.Backoff) {
				names = append(names, p.Config().Name)
			}
		}
	}
	return names
}

// reportShutdown logs the processes not yet stopped, in the order of gs,
// at most every few seconds, and returns when it last logged.
func (s *Supervisor) reportShutdown(gs []*Group, last time.Time) time.Time {
	if time.Since(last) < shutdownReportEvery {
		return last
	}
	names := s.unstopped(gs, nil)
	if len(names) == 0 {
		return last
	}
	s.Logf(config.LevelInfo, "waiting for %s to die", strings.Join(names, ", "))
	return time.Now()
}
