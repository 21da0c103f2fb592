package process

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/drover/drover/internal/config"
)

// stdinSource records the files Options.ChildStdin hands out and gets back.
type stdinSource struct {
	mu  sync.Mutex
	err error
	log []string // "acquire", "release"
}

func (s *stdinSource) acquire() (*os.File, func(), error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return nil, nil, s.err
	}
	s.log = append(s.log, "acquire")
	return nil, func() {
		s.mu.Lock()
		s.log = append(s.log, "release")
		s.mu.Unlock()
	}, nil
}

func (s *stdinSource) calls() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.log)
}

func TestRunnerChildStdinReleased(t *testing.T) {
	tests := []struct {
		name                 string
		acquireErr, spawnErr error
		restart              bool // autorestart=true, the child dies after restartPace
		die                  bool // the spawned child exits
		want                 []string
		wantSpawnErr         string
	}{
		{name: "held while the child lives", want: []string{"acquire"}},
		{name: "released when the child is reaped", die: true, want: []string{"acquire", "release"},
			wantSpawnErr: "Exited too quickly (process log may have details)"},
		{name: "taken over by an immediate autorestart", restart: true, die: true,
			want: []string{"acquire", "acquire", "release"}},
		{name: "released when the spawn fails", spawnErr: &SpawnError{SpawnFailed, "couldn't exec /x: EACCES"},
			want: []string{"acquire", "release"}, wantSpawnErr: "couldn't exec /x: EACCES"},
		{name: "acquire error is the spawn error", acquireErr: errors.New("Could not create FastCGI socket tcp://127.0.0.1:1: [Errno 98] Address already in use"),
			wantSpawnErr: "Could not create FastCGI socket tcp://127.0.0.1:1: [Errno 98] Address already in use"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				src := &stdinSource{err: tt.acquireErr}
				sp := newFakeSpawner()
				sp.spawnErr = tt.spawnErr
				cfg := testConfig()
				cfg.AutoRestart = config.RestartNever
				cfg.StartRetries = 0
				if tt.restart {
					cfg.AutoRestart, cfg.StartSecs = config.RestartAlways, 0
				}
				r := NewRunner(cfg, Options{Spawner: sp, Log: &logRecorder{}, ChildStdin: src.acquire})
				ctx, cancel := context.WithCancel(t.Context())
				done := make(chan error)
				go func() { done <- r.Run(ctx) }()
				defer func() { cancel(); <-done }()
				_ = r.Start(ctx, false)
				synctest.Wait()
				if tt.die {
					time.Sleep(restartPace)
					sp.last(t).die(ExitStatus{Code: 0})
					synctest.Wait()
				}
				if got := src.calls(); !slices.Equal(got, tt.want) {
					t.Errorf("ChildStdin calls = %v, want %v", got, tt.want)
				}
				if got := r.Info().SpawnErr; got != tt.wantSpawnErr {
					t.Errorf("spawnerr = %q, want %q", got, tt.wantSpawnErr)
				}
			})
		})
	}
}

func TestSpawnStdinFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "in")
	if err := os.WriteFile(path, []byte("hello\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c, out, _ := helperCommand(t, "stdin")
	c.Stdin = f
	ch := spawnHelper(t, c)
	if _, err := ch.Stdin().Write([]byte("x")); !errors.Is(err, syscall.EPIPE) {
		t.Errorf("Stdin().Write = %v, want EPIPE", err)
	}
	ch.finish(t)
	if want := "stdin is not a pipe\ngot hello\n"; out.String() != want {
		t.Errorf("output = %q, want %q", out.String(), want)
	}
	if _, err := f.Stat(); err != nil {
		t.Errorf("the caller's file after the spawn: %v", err)
	}
}
