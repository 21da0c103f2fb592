// Package supervisortest has what the tests of the core and of the
// features around it (internal/pool, internal/gate, internal/memlimit)
// share: a fake spawner, config builders, a log that keeps lines, and a
// way to run a Supervisor in a synctest bubble.
package supervisortest

import (
	"io"
	"sync"
	"syscall"

	"github.com/drover/drover/internal/process"
)

// FakeSpawner records spawns and signals; its children live until signalled
// (or, for held ones, until the test lets them go). Channels only, so it
// works inside a synctest bubble.
type FakeSpawner struct {
	mu       sync.Mutex
	held     map[string]bool       // namespecs that ignore stop signals
	spawned  []string              // namespecs in spawn order; guarded by mu
	signaled []string              // namespecs in signal order; guarded by mu
	children map[string]*fakeChild // latest child by namespec; guarded by mu
	nextPID  int                   // guarded by mu
}

// NewFakeSpawner returns a spawner whose children named by held (namespecs)
// ignore stop signals but SIGKILL.
func NewFakeSpawner(held ...string) *FakeSpawner {
	sp := &FakeSpawner{held: map[string]bool{}, children: map[string]*fakeChild{}, nextPID: 100}
	for _, n := range held {
		sp.held[n] = true
	}
	return sp
}

// Check accepts every command.
func (sp *FakeSpawner) Check(*process.Command) error { return nil }

// Spawn starts a fake child named by its namespec.
func (sp *FakeSpawner) Spawn(c *process.Command) (process.Child, error) {
	name := c.Group + ":" + c.Name
	if c.Group == c.Name {
		name = c.Name
	}
	sp.mu.Lock()
	defer sp.mu.Unlock()
	sp.nextPID++
	ch := &fakeChild{sp: sp, name: name, pid: sp.nextPID, exit: make(chan process.ExitStatus, 1)}
	sp.spawned = append(sp.spawned, name)
	sp.children[name] = ch
	return ch, nil
}

// Spawned returns the namespecs spawned, in order.
func (sp *FakeSpawner) Spawned() []string {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	return append([]string(nil), sp.spawned...)
}

// Signaled returns the namespecs signalled, in order.
func (sp *FakeSpawner) Signaled() []string {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	return append([]string(nil), sp.signaled...)
}

// Release makes the held child of name exit as if killed by SIGTERM.
func (sp *FakeSpawner) Release(name string) {
	sp.mu.Lock()
	ch := sp.children[name]
	sp.mu.Unlock()
	ch.exitOnce(syscall.SIGTERM)
}

type fakeChild struct {
	sp   *FakeSpawner
	name string
	pid  int
	once sync.Once
	exit chan process.ExitStatus
}

func (c *fakeChild) PID() int                 { return c.pid }
func (c *fakeChild) Wait() process.ExitStatus { return <-c.exit }
func (c *fakeChild) Stdin() io.Writer         { return io.Discard }

func (c *fakeChild) Signal(sig syscall.Signal, group bool) error {
	c.sp.mu.Lock()
	c.sp.signaled = append(c.sp.signaled, c.name)
	held := c.sp.held[c.name] && sig != syscall.SIGKILL
	c.sp.mu.Unlock()
	if !held {
		c.exitOnce(sig)
	}
	return nil
}

func (c *fakeChild) exitOnce(sig syscall.Signal) {
	c.once.Do(func() { c.exit <- process.ExitStatus{Code: -1, Signal: sig} })
}
