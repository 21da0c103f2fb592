package process

import (
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"sync"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/events"
)

// fakeSpawner hands out fakeChildren; everything is channels, so a bubble's
// clock advances whenever the Runner waits.
type fakeSpawner struct {
	mu       sync.Mutex
	checkErr error
	spawnErr error
	children []*fakeChild
	dieOn    []syscall.Signal // signals that kill new children
	sigErr   error            // returned by Signal of new children
}

type fakeChild struct {
	pid     int
	at      time.Time
	exit    chan ExitStatus
	mu      sync.Mutex
	signals []sigSent
	dieOn   []syscall.Signal
	sigErr  error
}

type sigSent struct {
	sig   syscall.Signal
	group bool
}

func newFakeSpawner() *fakeSpawner {
	return &fakeSpawner{dieOn: []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL}}
}

func (f *fakeSpawner) Check(*Command) error { return f.checkErr }

func (f *fakeSpawner) Spawn(*Command) (Child, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.spawnErr != nil {
		return nil, f.spawnErr
	}
	c := &fakeChild{pid: 100 + len(f.children), at: time.Now(), exit: make(chan ExitStatus, 1), dieOn: f.dieOn, sigErr: f.sigErr}
	f.children = append(f.children, c)
	return c, nil
}

func (f *fakeSpawner) spawned() []*fakeChild {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.children)
}

// last returns the newest child.
func (f *fakeSpawner) last(t *testing.T) *fakeChild {
	t.Helper()
	cs := f.spawned()
	if len(cs) == 0 {
		t.Fatal("nothing spawned")
	}
	return cs[len(cs)-1]
}

func (c *fakeChild) PID() int         { return c.pid }
func (c *fakeChild) Stdin() io.Writer { return io.Discard }
func (c *fakeChild) Wait() ExitStatus { return <-c.exit }

func (c *fakeChild) Signal(sig syscall.Signal, group bool) error {
	c.mu.Lock()
	c.signals = append(c.signals, sigSent{sig, group})
	c.mu.Unlock()
	if c.sigErr != nil {
		return c.sigErr
	}
	if slices.Contains(c.dieOn, sig) {
		c.die(ExitStatus{Code: -1, Signal: sig})
	}
	return nil
}

func (c *fakeChild) die(es ExitStatus) {
	select {
	case c.exit <- es:
	default:
	}
}

func (c *fakeChild) sent() []sigSent {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.signals)
}

type logRecorder struct {
	mu    sync.Mutex
	lines []string
}

func (l *logRecorder) Logf(level config.LogLevel, format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if level >= config.LevelInfo {
		l.lines = append(l.lines, fmt.Sprintf(format, args...))
	}
}

func (l *logRecorder) count(line string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, s := range l.lines {
		if s == line {
			n++
		}
	}
	return n
}

type harness struct {
	r   *Runner
	sp  *fakeSpawner
	sub *events.Subscription
	log *logRecorder
}

// run starts a Runner inside the current bubble; the Runner is stopped and
// awaited at the end of the test.
func run(t *testing.T, cfg *config.Process, sp *fakeSpawner) *harness {
	bus := &events.Bus{}
	h := &harness{sp: sp, sub: bus.Subscribe(), log: &logRecorder{}}
	h.r = NewRunner(cfg, Options{Spawner: sp, Events: bus, Log: h.log})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- h.r.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run = %v", err)
		}
		h.sub.Close()
	})
	return h
}

// transitions returns the published events as "FROM>TO" plus payload facts.
func (h *harness) transitions() []string {
	var out []string
	for _, e := range h.sub.Next() {
		ps := e.(events.ProcessState)
		out = append(out, fmt.Sprintf("%s>%s tries=%d pid=%d expected=%v", ps.From, ps.To, ps.Tries, ps.PID, ps.Expected))
	}
	return out
}

func (h *harness) state() State { return h.r.Info().State }

func TestRunnerBackoffThenFatal(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := testConfig() // startsecs 3, startretries 2
		h := run(t, cfg, newFakeSpawner())
		start := time.Now()
		if err := h.r.Start(t.Context(), false); err != nil {
			t.Fatalf("Start = %v", err)
		}
		for i := range 3 {
			synctest.Wait()
			h.sp.last(t).die(ExitStatus{Code: 0}) // within startsecs
			synctest.Wait()
			time.Sleep(time.Duration(i+1) * time.Second) // the backoff delay
		}
		var at []time.Duration
		for _, c := range h.sp.spawned() {
			at = append(at, c.at.Sub(start))
		}
		if want := []time.Duration{0, time.Second, 3 * time.Second}; !reflect.DeepEqual(at, want) {
			t.Errorf("spawns at %v, want %v", at, want)
		}
		if got := h.state(); got != Fatal {
			t.Errorf("state = %v, want FATAL", got)
		}
		want := []string{
			"STOPPED>STARTING tries=0 pid=0 expected=false",
			"STARTING>BACKOFF tries=1 pid=0 expected=false",
			"BACKOFF>STARTING tries=1 pid=0 expected=false",
			"STARTING>BACKOFF tries=2 pid=0 expected=false",
			"BACKOFF>STARTING tries=2 pid=0 expected=false",
			"STARTING>BACKOFF tries=3 pid=0 expected=false",
			"BACKOFF>FATAL tries=0 pid=0 expected=false",
		}
		if got := h.transitions(); !reflect.DeepEqual(got, want) {
			t.Errorf("events:\n%v\nwant\n%v", got, want)
		}
		if n := h.log.count("gave up: w entered FATAL state, too many start retries too quickly"); n != 1 {
			t.Errorf("gave up logged %d times, want 1", n)
		}
	})
}

func TestRunnerStartsecs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := run(t, testConfig(), newFakeSpawner())
		start := time.Now()
		errc := make(chan error)
		go func() { errc <- h.r.Start(t.Context(), true) }()
		time.Sleep(3*time.Second - time.Nanosecond)
		synctest.Wait()
		if got := h.state(); got != Starting {
			t.Errorf("state just before startsecs = %v, want STARTING", got)
		}
		if err := <-errc; err != nil {
			t.Errorf("Start(wait) = %v, want nil", err)
		}
		if d := time.Since(start); d != 3*time.Second {
			t.Errorf("Start(wait) returned after %v, want 3s", d)
		}
		if got := h.state(); got != Running {
			t.Errorf("state = %v, want RUNNING", got)
		}
		if err := h.r.Start(t.Context(), true); err != ErrAlreadyStarted {
			t.Errorf("second Start = %v, want ErrAlreadyStarted", err)
		}
		want := []string{
			"STOPPED>STARTING tries=0 pid=0 expected=false",
			"STARTING>RUNNING tries=0 pid=100 expected=false",
		}
		if got := h.transitions(); !reflect.DeepEqual(got, want) {
			t.Errorf("events:\n%v\nwant\n%v", got, want)
		}
	})
}

func TestRunnerStartResults(t *testing.T) {
	notFound := &SpawnError{SpawnNoFile, "can't find command 'nope'"}
	tests := []struct {
		name      string
		checkErr  error
		spawnErr  error
		exit      bool // the child dies at once
		wait      bool
		want      error
		wantState State
	}{
		{"pre-check failure spawns nothing", notFound, nil, false, true, notFound, Stopped},
		{"spawn error", nil, &SpawnError{SpawnFailed, "couldn't exec /x: EACCES"}, false, false,
			&SpawnError{SpawnFailed, "couldn't exec /x: EACCES"}, Backoff},
		{"exited too quickly", nil, nil, true, true, &SpawnError{SpawnFailed, exitedTooQuickly}, Backoff},
		{"no wait", nil, nil, false, false, nil, Starting},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				sp := newFakeSpawner()
				sp.checkErr, sp.spawnErr = tt.checkErr, tt.spawnErr
				h := run(t, testConfig(), sp)
				errc := make(chan error)
				go func() { errc <- h.r.Start(t.Context(), tt.wait) }()
				synctest.Wait()
				if tt.exit {
					h.sp.last(t).die(ExitStatus{Code: 0})
				}
				err := <-errc
				if !reflect.DeepEqual(err, tt.want) {
					t.Errorf("Start(wait=%v) = %#v, want %#v", tt.wait, err, tt.want)
				}
				if got := h.state(); got != tt.wantState {
					t.Errorf("state = %v, want %v", got, tt.wantState)
				}
				if tt.checkErr != nil && len(sp.spawned()) != 0 {
					t.Errorf("spawned after a failed pre-check")
				}
			})
		})
	}
}

// Autostart spawns a command startProcess would refuse: spawn errors,
// BACKOFF, retries, FATAL; Start still refuses it and leaves FATAL alone.
func TestRunnerAutostartSkipsStartChecks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		notFound := &SpawnError{SpawnNoFile, "can't find command '/srv/app/missing'"}
		sp := newFakeSpawner()
		sp.checkErr, sp.spawnErr = notFound, notFound
		h := run(t, testConfig(), sp) // startretries 2
		if err := h.r.Autostart(t.Context()); !reflect.DeepEqual(err, &SpawnError{SpawnFailed, notFound.Msg}) {
			t.Errorf("Autostart = %#v, want the spawn error", err)
		}
		time.Sleep(time.Second + 2*time.Second) // the two backoff delays
		synctest.Wait()
		if got := h.state(); got != Fatal {
			t.Fatalf("state = %v, want FATAL", got)
		}
		if n := h.log.count("spawnerr: " + notFound.Msg); n != 3 {
			t.Errorf("%d spawnerr lines, want 3", n)
		}
		if n := h.log.count("gave up: w entered FATAL state, too many start retries too quickly"); n != 1 {
			t.Errorf("%d gave up lines, want 1", n)
		}
		if err := h.r.Start(t.Context(), true); !reflect.DeepEqual(err, notFound) {
			t.Errorf("Start = %#v, want %#v", err, notFound)
		}
		if info := h.r.Info(); info.State != Fatal || info.SpawnErr != notFound.Msg {
			t.Errorf("after Start: %v %q, want FATAL with the spawnerr", info.State, info.SpawnErr)
		}
	})
}

func TestRunnerAutorestart(t *testing.T) {
	exit0, exit1 := ExitStatus{Code: 0}, ExitStatus{Code: 1}
	killed := ExitStatus{Code: -1, Signal: syscall.SIGKILL}
	tests := []struct {
		restart config.AutoRestart
		exit    ExitStatus
		want    bool
	}{
		{config.RestartNever, exit0, false},
		{config.RestartNever, exit1, false},
		{config.RestartNever, killed, false},
		{config.RestartUnexpected, exit0, false},
		{config.RestartUnexpected, exit1, true},
		{config.RestartUnexpected, killed, true},
		{config.RestartAlways, exit0, true},
		{config.RestartAlways, exit1, true},
		{config.RestartAlways, killed, true},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d/%v", tt.restart, tt.exit), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				cfg := testConfig()
				cfg.AutoRestart = tt.restart
				h := run(t, cfg, newFakeSpawner())
				if err := h.r.Start(t.Context(), true); err != nil {
					t.Fatalf("Start = %v", err)
				}
				h.sp.last(t).die(tt.exit)
				synctest.Wait()
				restarted := len(h.sp.spawned()) == 2
				if restarted != tt.want {
					t.Errorf("restarted = %v, want %v", restarted, tt.want)
				}
				wantState := Exited
				if tt.want {
					wantState = Starting
				}
				if got := h.state(); got != wantState {
					t.Errorf("state = %v, want %v", got, wantState)
				}
			})
		})
	}
}

func TestRunnerStopEscalatesToSIGKILL(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := testConfig()
		cfg.StopWait = 5 * time.Second
		cfg.StopAsGroup, cfg.KillAsGroup = true, true
		sp := newFakeSpawner()
		sp.dieOn = []syscall.Signal{syscall.SIGKILL}
		h := run(t, cfg, sp)
		if err := h.r.Start(t.Context(), true); err != nil {
			t.Fatalf("Start = %v", err)
		}
		h.transitions()
		start := time.Now()
		errc := make(chan error)
		go func() { errc <- h.r.Stop(t.Context(), true) }()
		time.Sleep(5*time.Second - time.Nanosecond)
		synctest.Wait()
		c := h.sp.last(t)
		if got, want := c.sent(), []sigSent{{syscall.SIGTERM, true}}; !reflect.DeepEqual(got, want) {
			t.Errorf("before stopwaitsecs sent %v, want %v", got, want)
		}
		if err := <-errc; err != nil {
			t.Errorf("Stop(wait) = %v", err)
		}
		if d := time.Since(start); d != 5*time.Second {
			t.Errorf("Stop(wait) took %v, want 5s", d)
		}
		if got, want := c.sent(), []sigSent{{syscall.SIGTERM, true}, {syscall.SIGKILL, true}}; !reflect.DeepEqual(got, want) {
			t.Errorf("sent %v, want %v", got, want)
		}
		want := []string{
			"RUNNING>STOPPING tries=0 pid=100 expected=false",
			"STOPPING>STOPPED tries=0 pid=100 expected=false",
		}
		if got := h.transitions(); !reflect.DeepEqual(got, want) {
			t.Errorf("events:\n%v\nwant\n%v", got, want)
		}
		for _, line := range []string{"killing 'w' (100) with SIGKILL", "stopped: w (terminated by SIGKILL)"} {
			if n := h.log.count(line); n != 1 {
				t.Errorf("%q logged %d times, want 1", line, n)
			}
		}
		if n := h.log.count("waiting for w to stop"); n != 3 { // at 0.05, 2.05 and 4.05 s
			t.Errorf("waiting for w to stop logged %d times, want 3", n)
		}
		if err := h.r.Stop(t.Context(), true); err != ErrNotRunning {
			t.Errorf("Stop when stopped = %v, want ErrNotRunning", err)
		}
	})
}

func TestRunnerSIGKILLRepeated(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := testConfig()
		cfg.StopWait = 5 * time.Second
		sp := newFakeSpawner()
		sp.dieOn = nil // unkillable (e.g. stuck in D state)
		h := run(t, cfg, sp)
		if err := h.r.Start(t.Context(), true); err != nil {
			t.Fatalf("Start = %v", err)
		}
		if err := h.r.Stop(t.Context(), false); err != nil {
			t.Fatalf("Stop = %v", err)
		}
		time.Sleep(15 * time.Second)
		synctest.Wait()
		want := []sigSent{{syscall.SIGTERM, false}, {syscall.SIGKILL, false}, {syscall.SIGKILL, false}, {syscall.SIGKILL, false}}
		if got := h.sp.last(t).sent(); !reflect.DeepEqual(got, want) {
			t.Errorf("sent %v, want %v", got, want)
		}
		h.sp.last(t).die(ExitStatus{Code: -1, Signal: syscall.SIGKILL}) // let Run end
	})
}

func TestRunnerStopFromBackoff(t *testing.T) {
	for _, shutdown := range []bool{false, true} {
		t.Run(fmt.Sprint("shutdown=", shutdown), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				sp := newFakeSpawner()
				sp.spawnErr = &SpawnError{SpawnFailed, "boom"}
				h := run(t, testConfig(), sp)
				if err := h.r.Start(t.Context(), false); err == nil {
					t.Fatal("Start succeeded, want the spawn error")
				}
				stop, want := h.r.Stop, Stopped
				if shutdown {
					stop, want = h.r.StopForShutdown, Fatal
				}
				if err := stop(t.Context(), true); err != nil {
					t.Errorf("stop = %v", err)
				}
				if got := h.state(); got != want {
					t.Errorf("state = %v, want %v", got, want)
				}
				time.Sleep(time.Minute) // the backoff timer must not respawn
				synctest.Wait()
				if got := h.state(); got != want {
					t.Errorf("state a minute later = %v, want %v", got, want)
				}
			})
		})
	}
}

func TestRunnerSignal(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := run(t, testConfig(), newFakeSpawner())
		if err := h.r.Signal(syscall.SIGHUP); err != ErrNotRunning {
			t.Errorf("Signal when stopped = %v, want ErrNotRunning", err)
		}
		if err := h.r.Start(t.Context(), false); err != nil {
			t.Fatal(err)
		}
		if err := h.r.Signal(syscall.SIGUSR1); err != nil {
			t.Errorf("Signal = %v", err)
		}
		if got, want := h.sp.last(t).sent(), []sigSent{{syscall.SIGUSR1, false}}; !reflect.DeepEqual(got, want) {
			t.Errorf("sent %v, want %v", got, want)
		}
		if got := h.state(); got != Starting {
			t.Errorf("state = %v, want STARTING (signal changes nothing)", got)
		}
	})
}

// TestRunnerShutdownStopsChild: the end of Begin's context, or Close (for
// a Runner begun with a context that never ends), stops the child as Stop
// would and ends the Runner.
func TestRunnerShutdownStopsChild(t *testing.T) {
	for _, how := range []string{"context", "Close"} {
		t.Run(how, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				cfg := testConfig()
				cfg.StopWait = 7 * time.Second
				sp := newFakeSpawner()
				sp.dieOn = []syscall.Signal{syscall.SIGKILL}
				r := NewRunner(cfg, Options{Spawner: sp})
				ctx, cancel := context.WithCancel(t.Context())
				end := cancel
				if how == "Close" {
					ctx, end = context.Background(), func() { r.Close(); r.Close() } // twice: no harm
				}
				done := make(chan error)
				go func() { done <- r.Run(ctx) }()
				if err := r.Start(t.Context(), true); err != nil {
					t.Fatal(err)
				}
				start := time.Now()
				end()
				if err := <-done; err != nil {
					t.Errorf("Run = %v", err)
				}
				if d := time.Since(start); d != 7*time.Second {
					t.Errorf("Run returned %v after %s, want 7s (stopwaitsecs then SIGKILL)", d, how)
				}
				if got := r.Info().State; got != Stopped {
					t.Errorf("state = %v, want STOPPED", got)
				}
				if err := r.Start(t.Context(), false); !errors.Is(err, ErrRunnerDone) {
					t.Errorf("Start after Run = %v, want ErrRunnerDone", err)
				}
				r.Close() // after the end: ignored
				cancel()
			})
		})
	}
}

// perChildSink records the SpawnWriter calls.
type perChildSink struct {
	io.Writer
	mu   sync.Mutex
	pids []int
}

func (s *perChildSink) ForSpawn() ChildWriter { return &childSink{s} }

type childSink struct{ s *perChildSink }

func (c *childSink) Write(p []byte) (int, error) { return len(p), nil }
func (c *childSink) Spawned(pid int) {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	c.s.pids = append(c.s.pids, pid)
}

func TestRunnerSpawnWriter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := testConfig()
		cfg.AutoRestart = config.RestartAlways
		sp := newFakeSpawner()
		sink := &perChildSink{Writer: io.Discard}
		r := NewRunner(cfg, Options{Spawner: sp, Stdout: sink})
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- r.Run(ctx) }()
		if err := r.Start(t.Context(), true); err != nil {
			t.Fatal(err)
		}
		sp.spawned()[0].die(ExitStatus{Code: 0}) // restarted at once
		synctest.Wait()
		cancel()
		<-done
		sink.mu.Lock()
		defer sink.mu.Unlock()
		if want := []int{100, 101}; !reflect.DeepEqual(sink.pids, want) {
			t.Errorf("Spawned pids = %v, want %v", sink.pids, want)
		}
	})
}

func TestRunnerSignalErrorIsUnknown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sp := newFakeSpawner()
		sp.sigErr = syscall.EPERM
		h := run(t, testConfig(), sp)
		if err := h.r.Start(t.Context(), true); err != nil {
			t.Fatal(err)
		}
		h.transitions()
		err := h.r.Stop(t.Context(), true)
		if want := "unknown problem killing w (100):operation not permitted"; err == nil || err.Error() != want {
			t.Errorf("Stop = %v, want %q", err, want)
		}
		if got := h.state(); got != Unknown {
			t.Errorf("state = %v, want UNKNOWN", got)
		}
		if err := h.r.Start(t.Context(), true); err != ErrUnknownState {
			t.Errorf("Start in UNKNOWN = %v, want ErrUnknownState", err)
		}
		want := []string{
			"RUNNING>STOPPING tries=0 pid=100 expected=false",
			"STOPPING>UNKNOWN tries=0 pid=0 expected=false",
		}
		if got := h.transitions(); !reflect.DeepEqual(got, want) {
			t.Errorf("events:\n%v\nwant\n%v", got, want)
		}
		h.sp.last(t).die(ExitStatus{Code: 0}) // let Run end
	})
}
