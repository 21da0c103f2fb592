package supervisor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync/atomic"

	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/eventlistener"
	"github.com/drover/drover/internal/guard"
	"github.com/drover/drover/internal/logs"
	"github.com/drover/drover/internal/process"
)

// newGroup builds the processes of gc with their logs (AUTO files are
// created soon, even for processes never started): its configured ones, or
// those of a pool an upgrade handed over. Callers hold opMu.
func (s *Supervisor) newGroup(gc *config.Group) (*Group, error) {
	g := &Group{Config: gc, act: s.newActivation(gc.Name), pool: s.newPool(gc)}
	if gc.Kind == config.KindFCGI {
		g.fcgi = newFCGISocket(gc, s.opts.Log)
		if fd, ok := s.opts.AdoptSockets[gc.Name]; ok {
			g.fcgi.adopt(fd)
		}
	}
	members := gc.Processes
	if adopted := s.adoptedMembers(gc); adopted != nil {
		members = adopted
	}
	for _, pc := range members {
		p, err := s.newProcessOn(pc, g.pool, g.fcgi)
		if err != nil {
			g.releaseLogs(s)
			return nil, err
		}
		g.Processes = append(g.Processes, p)
	}
	return g, nil
}

func (s *Supervisor) newProcess(pc *config.Process, pool *eventlistener.Pool) (*Process, error) {
	return s.newProcessOn(pc, pool, nil)
}

// newProcessOn is newProcess for a process whose fd 0 is sock, the socket of
// its FastCGI group (nil: a stdin pipe).
func (s *Supervisor) newProcessOn(pc *config.Process, pool *eventlistener.Pool, sock *fcgiSocket) (*Process, error) {
	stdout, err := s.acquireLog(pc, "stdout", pc.Stdout)
	if err != nil {
		return nil, err
	}
	var stderr *logs.ChildLog
	if !pc.RedirectStderr {
		stderr, err = s.acquireLog(pc, "stderr", pc.Stderr)
		if err != nil {
			s.releaseLog(stdout)
			return nil, err
		}
	}
	restarts := s.restarts.tracker(Namespec(pc.Group, pc.Name))
	serverURL := pc.ServerURL
	if serverURL == "" || serverURL == "AUTO" {
		serverURL = s.opts.ServerURL
	}
	p := &Process{
		Namespec: Namespec(pc.Group, pc.Name),
		stdout:   stdout,
		stderr:   stderr,
		restarts: restarts,
	}
	opts := process.Options{
		Spawner:   s.opts.Spawner,
		Log:       s.opts.Log,
		Events:    s.bus,
		Stdout:    p.lineWriter(pc, "stdout", pc.Stdout, stdout),
		Stderr:    p.lineWriter(pc, "stderr", pc.Stderr, stderr),
		ServerURL: serverURL,
		// The config keeps AUTO, as read, so that reread compares like
		// with like; Info reports the names given.
		StdoutLog: logPath(stdout),
		StderrLog: logPath(stderr),
		BaseEnv:   s.opts.BaseEnv,
		BeforeSpawn: func() {
			p.restarts.beforeSpawn(p.Namespec)
			for _, l := range []*logs.ChildLog{p.stdout, p.stderr} {
				if l != nil {
					l.Create()
				}
			}
		},
	}
	if sock != nil {
		opts.ChildStdin = sock.acquire
	}
	s.eventWriters(pc, pool, &opts)
	if h := s.opts.Hooks.Output; h != nil {
		opts.Stdout = h(pc, opts.Stdout)
	}
	if pc.RedirectStderr {
		// Whether the runner merges the pipes or not, stderr belongs in the stdout log.
		opts.Stderr = opts.Stdout
	}
	r := process.NewRunner(pc, opts)
	if pool != nil {
		pool.Attach(pc.Name, r)
	}
	p.Runner = r
	if h := s.opts.Hooks.StartGate; h != nil {
		p.gate = h(s, p)
	}
	return p, nil
}

// writer returns l as an io.Writer, nil (discard) for no log.
func writer(l *logs.ChildLog) io.Writer {
	if l == nil {
		return nil
	}
	return l
}

func (g *Group) releaseLogs(s *Supervisor) {
	for _, p := range g.Processes {
		s.releaseProcessLogs(p)
	}
}

// insertLocked makes g active. Its runners start with Run (startLocked).
func (s *Supervisor) insertLocked(g *Group) {
	g.seq = s.nextSeq
	s.nextSeq++
	s.groups[g.Config.Name] = g
}

// startLocked begins every runner of g, until its activation stops
// (stopLocked: the group is removed, or Run ends); when they have all
// ended the logs are released and g.done closed.
func (s *Supervisor) startLocked(g *Group) {
	g.act.started, g.act.begun = true, g.Processes
	if h := s.opts.Hooks.Started; h != nil && g.Config.Kind == config.KindProgram {
		h(g)
	}
	// Whichever runner ends last ends g, so no goroutine per group sits
	// waiting (with one program per group, that was one more goroutine per
	// program). The extra count is this function's own, dropped once every
	// runner has begun; it also ends a group without processes.
	s.runners.Add(1)
	left := new(atomic.Int32)
	left.Store(int32(len(g.Processes)) + 1)
	finish := func() {
		if left.Add(-1) == 0 {
			g.end(s)
			s.runners.Done()
		}
	}
	for _, p := range g.Processes {
		p.Begin(context.Background(), finish)
	}
	finish()
	if s.runCtx.Err() != nil {
		g.act.stopLocked() // Run has stopped the others already
	}
}

// end releases the logs of g once its runners are gone (or were never started).
func (g *Group) end(s *Supervisor) {
	g.releaseLogs(s)
	g.act.end()
}

// autostart spawns the autostart processes in order, without waiting for
// RUNNING: priority orders the spawns, it does not wait for readiness. In
// a [group:x] Supervisor's loop spawns them in programs= order, not by
// priority (asKept).
func (g *Group) autostart(ctx context.Context) {
	for _, p := range g.asKept() {
		if p.Config().Autostart && !p.adopted {
			// A failed spawn is the runner's to log and retry.
			_ = p.Autostart(ctx)
		}
	}
}

// asKept returns the processes of g in the order Supervisor keeps them in
// the group (config.Process.Member): what its own loop and its shutdown
// report walk; its RPC calls and stop_all sort them by priority.
func (g *Group) asKept() []*Process {
	ps := slices.Clone(g.Processes)
	slices.SortStableFunc(ps, func(a, b *Process) int { return a.Config().Member - b.Config().Member })
	return ps
}

// stopped reports whether every process of g is in a stopped state.
func (g *Group) stopped() bool {
	for _, p := range g.Processes {
		if !p.Info().State.IsStopped() {
			return false
		}
	}
	return true
}

// stopForShutdown asks every process of g to stop as stop_all does
// (descending priority, BACKOFF → FATAL), without waiting for any of them.
func (g *Group) stopForShutdown(ctx context.Context) {
	for i := len(g.Processes) - 1; i >= 0; i-- {
		// ErrNotRunning: already stopped, or stopping by an earlier request.
		_ = g.Processes[i].StopForShutdown(ctx, false)
	}
}

// StartAll starts ps together and waits until each is RUNNING.
func StartAll(ctx context.Context, ps []*Process) error {
	return eachConcurrently(ps, func(p *Process) error {
		err := p.Start(ctx, true)
		if err != nil && !errors.Is(err, process.ErrAlreadyStarted) {
			return fmt.Errorf("start %s: %w", p.Namespec, err)
		}
		return nil
	})
}

// StopAll stops ps together (gracefully) and waits until each is stopped.
func StopAll(ctx context.Context, ps []*Process) error {
	return eachConcurrently(ps, func(p *Process) error {
		err := p.Stop(ctx, true)
		if err != nil && !errors.Is(err, process.ErrNotRunning) {
			return fmt.Errorf("stop %s: %w", p.Namespec, err)
		}
		return nil
	})
}

func eachConcurrently(ps []*Process, f func(*Process) error) error {
	errs := make([]error, len(ps))
	done := make(chan struct{})
	for i, p := range ps {
		guard.Go("step of "+p.Namespec, func() {
			defer func() { done <- struct{}{} }()
			errs[i] = f(p)
		})
	}
	for range ps {
		<-done
	}
	return errors.Join(errs...)
}
