package process

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/drover/drover/internal/config"
)

// notifyingChild is a fakeChild whose exit is reported through NotifyExit,
// as a poller reports a real child's: nothing waits for it.
type notifyingChild struct {
	*fakeChild
	onExit func(ExitStatus)
}

func (c *notifyingChild) NotifyExit(_ string, onExit func(ExitStatus)) bool {
	c.onExit = onExit
	return true
}

func (c *notifyingChild) Signal(sig syscall.Signal, group bool) error {
	err := c.fakeChild.Signal(sig, group)
	if slices.Contains(c.dieOn, sig) {
		c.onExit(ExitStatus{Code: -1, Signal: sig})
	}
	return err
}

type notifyingSpawner struct{ *fakeSpawner }

func (s notifyingSpawner) Spawn(c *Command) (Child, error) {
	ch, err := s.fakeSpawner.Spawn(c)
	if err != nil {
		return nil, err
	}
	return &notifyingChild{fakeChild: ch.(*fakeChild)}, nil
}

// Runners whose children run hold no goroutine: with thousands of
// programs, one parked goroutine each was most of the memory per program.
func TestIdleRunnersHoldNoGoroutine(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		synctest.Wait()
		before := runtime.NumGoroutine()
		ctx, cancel := context.WithCancel(t.Context())
		var rs []*Runner
		for range 50 {
			r := NewRunner(testConfig(), Options{Spawner: notifyingSpawner{newFakeSpawner()}})
			r.Begin(ctx, nil)
			if err := r.Start(t.Context(), false); err != nil {
				t.Fatal(err)
			}
			rs = append(rs, r)
		}
		time.Sleep(4 * time.Second) // past startsecs
		synctest.Wait()
		for _, r := range rs {
			if got := r.Info().State; got != Running {
				t.Fatalf("state = %v, want RUNNING", got)
			}
		}
		if got := runtime.NumGoroutine(); got != before {
			t.Errorf("%d goroutines with 50 RUNNING programs, %d before: want no more", got, before)
		}
		cancel()
		for _, r := range rs {
			<-r.Done()
		}
	})
}

// blockingLog blocks a Logf whose line contains block until release is closed.
type blockingLog struct {
	block   string
	release chan struct{}
}

func (l *blockingLog) Logf(_ config.LogLevel, format string, args ...any) {
	if strings.Contains(fmt.Sprintf(format, args...), l.block) {
		<-l.release
	}
}

// The caller of a command handles its own command, not what was posted
// after it: a caller holding a lock of its own must not end up doing
// another input's work, which may want that lock.
func TestCallerLeavesLaterInputs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		log := &blockingLog{block: "sending", release: make(chan struct{})}
		sp := newFakeSpawner()
		gate := make(chan struct{})
		r := NewRunner(testConfig(), Options{Spawner: sp, Log: log, BeforeSpawn: func() { <-gate }})
		ctx, cancel := context.WithCancel(t.Context())
		r.Begin(ctx, nil)
		started := make(chan error, 1)
		go func() { started <- r.Start(t.Context(), false) }()
		synctest.Wait() // the Start's caller is in the spawn
		signalled := make(chan error, 1)
		go func() { signalled <- r.Signal(syscall.SIGUSR1) }() // queued behind it
		synctest.Wait()
		close(gate)
		synctest.Wait()
		select {
		case err := <-started:
			if err != nil {
				t.Errorf("Start = %v", err)
			}
		default:
			t.Fatal("Start's caller is still busy: it handles the Signal posted after its command")
		}
		close(log.release)
		if err := <-signalled; err != nil {
			t.Errorf("Signal = %v", err)
		}
		cancel()
		<-r.Done()
	})
}

// Commands posted while a Runner is frozen wait for the thaw, then run in order.
func TestFrozenRunnerHoldsCommandsUntilThaw(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := run(t, testConfig(), newFakeSpawner())
		thaw := make(chan struct{})
		snap, resumed, err := h.r.Freeze(thaw)
		if err != nil {
			t.Fatal(err)
		}
		if snap.State != Stopped || snap.PID != 0 {
			t.Errorf("snapshot %+v, want STOPPED without pid", snap)
		}
		started := make(chan error, 1)
		go func() { started <- h.r.Start(t.Context(), false) }()
		synctest.Wait()
		if n := len(h.sp.spawned()); n != 0 {
			t.Fatalf("%d spawns while frozen", n)
		}
		select {
		case err := <-started:
			t.Fatalf("Start answered while frozen: %v", err)
		default:
		}
		close(thaw)
		<-resumed
		if err := <-started; err != nil {
			t.Errorf("Start after thaw = %v", err)
		}
		if n := len(h.sp.spawned()); n != 1 {
			t.Errorf("%d spawns after thaw, want 1", n)
		}
	})
}

// A command to a Runner that has ended is answered ErrRunnerDone, and so
// is a waiter left when it ends.
func TestEndedRunnerRefusesCommands(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sp := newFakeSpawner()
		sp.dieOn = nil // the stop waits for stopwaitsecs, then SIGKILL is ignored too
		cfg := testConfig()
		r := NewRunner(cfg, Options{Spawner: sp})
		ctx, cancel := context.WithCancel(t.Context())
		r.Begin(ctx, nil)
		if err := r.Start(t.Context(), true); err != nil {
			t.Fatal(err)
		}
		stopped := make(chan error, 1)
		go func() { stopped <- r.Stop(t.Context(), true) }()
		synctest.Wait()
		cancel()
		synctest.Wait()
		sp.last(t).die(ExitStatus{Code: -1, Signal: syscall.SIGKILL})
		<-r.Done()
		if err := <-stopped; err != nil && !errors.Is(err, ErrRunnerDone) {
			t.Errorf("Stop waiting across the end = %v", err)
		}
		if err := r.Start(t.Context(), false); !errors.Is(err, ErrRunnerDone) {
			t.Errorf("Start after the end = %v, want ErrRunnerDone", err)
		}
	})
}
