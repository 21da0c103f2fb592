package rpc

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/process"
	"github.com/drover/drover/internal/supervisor"
	"github.com/drover/drover/internal/xmlrpc"
)

// fakeProc is a process whose operations return what the test sets up.
// With a gate, Start and Stop (with wait) block until the gate is closed.
type fakeProc struct {
	cfg *config.Process

	mu        sync.Mutex
	info      process.Info
	startErr  error
	stopErr   error
	gate      chan struct{}
	signals   []syscall.Signal
	stdin     []byte
	stdinErr  error
	clearErr  error
	cleared   int
	stdoutLog string
	stderrLog string
}

func newFakeProc(group, name string, state process.State) *fakeProc {
	return &fakeProc{
		cfg:  &config.Process{Name: name, Group: group},
		info: process.Info{Name: name, Group: group, State: state},
	}
}

func (p *fakeProc) Namespec() string              { return supervisor.Namespec(p.cfg.Group, p.cfg.Name) }
func (p *fakeProc) Config() *config.Process       { return p.cfg }
func (p *fakeProc) ConfigAsRead() *config.Process { return p.cfg }
func (p *fakeProc) StdoutLogPath() string         { return p.stdoutLog }
func (p *fakeProc) StderrLogPath() string         { return p.stderrLog }
func (p *fakeProc) StdoutLogFile() string         { return p.stdoutLog }
func (p *fakeProc) StderrLogFile() string         { return p.stderrLog }

func (p *fakeProc) Info() process.Info {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.info
}

func (p *fakeProc) await(ctx context.Context, wait bool) error {
	if p.gate == nil || !wait {
		return nil
	}
	process.NoteDeferred(ctx)
	select {
	case <-p.gate:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (p *fakeProc) Start(ctx context.Context, wait bool) error {
	if p.startErr != nil {
		return p.startErr
	}
	return p.await(ctx, wait)
}

func (p *fakeProc) Stop(ctx context.Context, wait bool) error {
	if p.stopErr != nil {
		return p.stopErr
	}
	return p.await(ctx, wait)
}

func (p *fakeProc) Signal(sig syscall.Signal) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.info.State.IsSignallable() {
		return process.ErrNotRunning
	}
	p.signals = append(p.signals, sig)
	return nil
}

func (p *fakeProc) WriteStdin(b []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stdin = append(p.stdin, b...)
	return p.stdinErr
}

func (p *fakeProc) ClearLogs() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cleared++
	return p.clearErr
}

// fakeBackend holds groups in priority order.
type fakeBackend struct {
	mu         sync.Mutex
	mood       supervisor.Mood
	groups     []string
	procs      map[string][]*fakeProc
	pending    *config.Config
	added      []string
	rereadErr  error
	groupErr   error
	shutdowns  int
	restarts   int
	restartErr error // what Restart returns
}

func newFakeBackend(ps ...*fakeProc) *fakeBackend {
	b := &fakeBackend{mood: supervisor.MoodRunning, procs: map[string][]*fakeProc{}, pending: &config.Config{}}
	for _, p := range ps {
		g := p.cfg.Group
		if _, ok := b.procs[g]; !ok {
			b.groups = append(b.groups, g)
		}
		b.procs[g] = append(b.procs[g], p)
	}
	return b
}

func (b *fakeBackend) Mood() supervisor.Mood {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.mood
}

func (b *fakeBackend) setMood(m supervisor.Mood) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.mood = m
}

func (b *fakeBackend) Lookup(namespec string) ([]proc, bool, error) {
	group, name, found := strings.Cut(namespec, ":")
	if !found {
		name = namespec
	}
	ps, ok := b.procs[group]
	if !ok {
		return nil, false, supervisor.ErrBadName
	}
	if found && (name == "" || name == "*") {
		return asProcs(ps), true, nil
	}
	for _, p := range ps {
		if p.cfg.Name == name {
			return []proc{p}, false, nil
		}
	}
	return nil, false, supervisor.ErrBadName
}

func (b *fakeBackend) HasGroup(name string) bool { _, ok := b.procs[name]; return ok }

func (b *fakeBackend) ProcessesByPriority() []proc {
	var out []proc
	for _, g := range b.groups {
		out = append(out, asProcs(b.procs[g])...)
	}
	return out
}

// AllProcesses: the tests create groups in name order already.
func (b *fakeBackend) AllProcesses() []proc          { return b.ProcessesByPriority() }
func (b *fakeBackend) PendingConfig() *config.Config { return b.pending }

func (b *fakeBackend) Reread() (added, changed, removed []string, err error) {
	return b.added, nil, nil, b.rereadErr
}

func (b *fakeBackend) AddGroup(ctx context.Context, name string) error    { return b.groupErr }
func (b *fakeBackend) RemoveGroup(ctx context.Context, name string) error { return b.groupErr }
func (b *fakeBackend) Shutdown()                                          { b.shutdowns++ }
func (b *fakeBackend) Restart() error                                     { b.restarts++; return b.restartErr }

func asProcs(ps []*fakeProc) []proc {
	out := make([]proc, len(ps))
	for i, p := range ps {
		out[i] = p
	}
	return out
}

// fakeMainLog is a main log at a path.
type fakeMainLog struct {
	path     string
	clearErr error
}

func (l *fakeMainLog) Path() string { return l.path }
func (l *fakeMainLog) Clear() error { return l.clearErr }

// call makes one XML-RPC call through the handler.
func call(t *testing.T, h http.Handler, method string, params ...any) (any, error) {
	t.Helper()
	var body bytes.Buffer
	if err := xmlrpc.EncodeCall(&body, method, params...); err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("POST", "/RPC2", &body)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("%s: HTTP %d %s", method, rec.Code, rec.Body.String())
	}
	if ct := rec.Header().Get("Content-Type"); ct != "text/xml" {
		t.Errorf("%s: Content-Type %q", method, ct)
	}
	return xmlrpc.DecodeResponse(rec.Body)
}

// wantFault checks that err is the fault code/text.
func wantFault(t *testing.T, err error, code int, text string) {
	t.Helper()
	f, ok := err.(*xmlrpc.Fault)
	if !ok || f.Code != code || f.String != text {
		t.Errorf("got %v, want fault %d %q", err, code, text)
	}
}

func contextWithCancel(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithCancel(r.Context())
}
