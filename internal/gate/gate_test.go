package gate

import (
	"context"
	"errors"
	"net"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/process"
	"github.com/drover/drover/internal/supervisor"
)

// gated gives the only process of g the worker options w.
func gated(g *config.Group, w config.Worker) *config.Group {
	if w.ReadyInterval == 0 {
		w.ReadyInterval = time.Second
	}
	g.Processes[0].Worker = &w
	return g
}

func TestDependsOnGatesAutostart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		db := program("db", 1, 1)
		db.Processes[0].StartSecs = 3 * time.Second
		cfg := configOf(t.TempDir(), db,
			gated(program("app", 2, 1), config.Worker{DependsOn: []string{"db"}}),
			gated(program("web", 3, 1), config.Worker{DependsOn: []string{"app"}}))
		sp := newFakeSpawner()
		s := newGated(cfg, supervisor.Options{Spawner: sp})
		result := started(t, s)

		if got := sp.Spawned(); !slices.Equal(got, []string{"db"}) {
			t.Fatalf("spawned %v before db is RUNNING, want [db]", got)
		}
		app, web := lookupOne(t, s, "app"), lookupOne(t, s, "web")
		for _, tt := range []struct {
			p    *supervisor.Process
			want string
		}{{app, "waiting for db (STARTING)"}, {web, "waiting for app (STOPPED)"}} {
			if info := tt.p.Info(); info.State != process.Stopped || info.Waiting != tt.want {
				t.Errorf("%s: %v %q, want STOPPED %q", tt.p.Namespec, info.State, info.Waiting, tt.want)
			}
		}

		time.Sleep(3 * time.Second) // db's startsecs
		synctest.Wait()
		if got := sp.Spawned(); !slices.Equal(got, []string{"db", "app"}) {
			t.Fatalf("spawned %v, want [db app]", got)
		}
		if info := app.Info(); info.Waiting != "" {
			t.Errorf("app still says %q once started", info.Waiting)
		}
		if info := web.Info(); info.Waiting != "waiting for app (STARTING)" {
			t.Errorf("web says %q while app is STARTING", info.Waiting)
		}
		time.Sleep(time.Second) // app's startsecs
		synctest.Wait()
		if got := sp.Spawned(); !slices.Equal(got, []string{"db", "app", "web"}) {
			t.Fatalf("spawned %v, want [db app web]", got)
		}
		s.Shutdown()
		<-result
	})
}

func TestStopEndsTheWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		never := program("never", 1, 1)
		never.Processes[0].Autostart = false
		sp := newFakeSpawner()
		s := newGated(configOf(t.TempDir(), never,
			gated(program("app", 2, 1), config.Worker{DependsOn: []string{"never"}})), supervisor.Options{Spawner: sp})
		result := started(t, s)
		app := lookupOne(t, s, "app")
		if err := app.Stop(t.Context(), true); err != nil {
			t.Fatalf("Stop of a waiting process = %v, want nil", err)
		}
		synctest.Wait()
		if w := app.Info().Waiting; w != "" {
			t.Errorf("still waiting (%q) after stop", w)
		}
		if err := app.Stop(t.Context(), true); !errors.Is(err, process.ErrNotRunning) {
			t.Errorf("second Stop = %v, want ErrNotRunning", err)
		}
		// The dependency coming up no longer starts app.
		if err := lookupOne(t, s, "never").Start(t.Context(), true); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if got := sp.Spawned(); !slices.Equal(got, []string{"never"}) {
			t.Errorf("spawned %v, want [never]", got)
		}
		s.Shutdown()
		<-result
	})
}

func TestStartWaitsAtMostReadyTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		never := program("never", 1, 1)
		never.Processes[0].Autostart = false
		app := gated(program("app", 2, 1), config.Worker{DependsOn: []string{"never"}, ReadyTimeout: 5 * time.Second})
		app.Processes[0].Autostart = false
		sp := newFakeSpawner()
		s := newGated(configOf(t.TempDir(), never, app), supervisor.Options{Spawner: sp})
		result := started(t, s)
		start := time.Now()
		err := lookupOne(t, s, "app").Start(t.Context(), true)
		var se *process.SpawnError
		if !errors.As(err, &se) || se.Msg != "still waiting for never (STOPPED) after ready_timeout (5s)" {
			t.Fatalf("Start = %v, want the ready_timeout spawn error", err)
		}
		if waited := time.Since(start); waited != 5*time.Second {
			t.Errorf("waited %v, want ready_timeout (5s)", waited)
		}

		// Once the dependency runs, a start request starts at once.
		if err := lookupOne(t, s, "never").Start(t.Context(), true); err != nil {
			t.Fatal(err)
		}
		if err := lookupOne(t, s, "app").Start(t.Context(), true); err != nil {
			t.Fatalf("Start with the dependency RUNNING = %v", err)
		}
		if got := sp.Spawned(); !slices.Equal(got, []string{"never", "app"}) {
			t.Errorf("spawned %v, want [never app]", got)
		}
		s.Shutdown()
		<-result
	})
}

func TestShutdownEndsTheWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		never := program("never", 1, 1)
		never.Processes[0].Autostart = false
		sp := newFakeSpawner()
		s := newGated(configOf(t.TempDir(), never,
			gated(program("app", 2, 1), config.Worker{DependsOn: []string{"never"}})), supervisor.Options{Spawner: sp})
		result := started(t, s)
		s.Shutdown()
		<-result
		synctest.Wait() // the background waiter has returned: the bubble would not end otherwise
		if got := sp.Spawned(); len(got) != 0 {
			t.Errorf("spawned %v, want nothing", got)
		}
	})
}

func TestGateNoteChecks(t *testing.T) {
	open, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer open.Close()
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := closed.Addr().String()
	closed.Close()
	check := func(s string) config.Check {
		c, err := config.ParseCheck(s)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	s := newGated(configOf(t.TempDir(), program("db", 1, 1)), supervisor.Options{Spawner: newFakeSpawner()})
	tests := []struct {
		name    string
		w       config.Worker
		note    string
		onState bool
	}{
		{"nothing", config.Worker{}, "", false},
		{"open port", config.Worker{WaitFor: []config.Check{check("tcp://" + open.Addr().String())}}, "", false},
		{"closed port", config.Worker{WaitFor: []config.Check{check("tcp://" + open.Addr().String()), check("tcp://" + closedAddr)}},
			"waiting for tcp://" + closedAddr, false},
		{"stopped dependency first", config.Worker{DependsOn: []string{"db"}, WaitFor: []config.Check{check("tcp://" + closedAddr)}},
			"waiting for db (STOPPED)", true},
		{"unknown program", config.Worker{DependsOn: []string{"gone"}}, "waiting for gone (not active)", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.w.ReadyInterval = time.Second
			note, onState := waitNote(context.Background(), s, &tt.w)
			if note != tt.note || onState != tt.onState {
				t.Fatalf("gateNote = %q %v, want %q %v", note, onState, tt.note, tt.onState)
			}
		})
	}
}
