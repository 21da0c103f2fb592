package supervisor

import (
	"testing"
	"time"

	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/events"
)

// runUntilEnd runs s and returns its exit code once Run has returned by
// itself (an end shut it down), failing after a bound.
func runUntilEnd(t *testing.T, s *Supervisor) int {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		_, err := s.Run(t.Context())
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		s.Shutdown()
		<-done
		t.Fatal("Run did not end by itself")
	}
	return s.ExitCode()
}

func TestEssentialProgramEndsTheDaemon(t *testing.T) {
	cases := []struct {
		name    string
		command []string
		tweak   func(p *config.Process)
		want    int
	}{
		{"exit status passes on", []string{"/bin/sh", "-c", "exit 3"}, func(p *config.Process) { p.AutoRestart = config.RestartNever }, 3},
		{"expected exit without restart", []string{"/bin/sh", "-c", "exit 0"}, nil, 0},
		{"signal is 128+N", []string{"/bin/sh", "-c", "kill -9 $$"}, func(p *config.Process) { p.AutoRestart = config.RestartNever }, 128 + 9},
		{"FATAL", []string{"/bin/sh", "-c", "exit 1"}, func(p *config.Process) { p.StartSecs, p.StartRetries = time.Second, 0 }, ExitEssentialFatal},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			app := program("app", 1, 1, c.command...)
			p := app.Processes[0]
			p.Essential, p.StartSecs = true, 0
			if c.tweak != nil {
				c.tweak(p)
			}
			web := program("web", 2, 1)
			s := New(configOf(t.TempDir(), app, web), Options{})
			if got := runUntilEnd(t, s); got != c.want {
				t.Errorf("exit code %d, want %d", got, c.want)
			}
			if st := s.Group("web").Processes[0].Info().State; !st.IsStopped() {
				t.Errorf("web is %v after the end, want stopped", st)
			}
		})
	}
}

// An essential program that exits unexpectedly but is restarted does not
// end anything; a non-essential one never does.
func TestRestartedOrOrdinaryProgramDoesNotEnd(t *testing.T) {
	app := program("app", 1, 1, "/bin/sh", "-c", "sleep 0.1; exit 3")
	app.Processes[0].Essential, app.Processes[0].StartSecs = true, 0
	other := program("other", 1, 1, "/bin/sh", "-c", "exit 4")
	other.Processes[0].AutoRestart, other.Processes[0].StartSecs = config.RestartNever, 0
	s := New(configOf(t.TempDir(), app, other), Options{})
	done := make(chan struct{})
	go func() {
		s.Run(t.Context())
		close(done)
	}()
	time.Sleep(1500 * time.Millisecond) // several restarts of app, other long exited
	select {
	case <-done:
		t.Fatal("the daemon ended")
	default:
	}
	s.Shutdown()
	<-done
	if got := s.ExitCode(); got != 0 {
		t.Errorf("exit code after a plain shutdown %d, want 0", got)
	}
}

func TestExitWhenAllDone(t *testing.T) {
	for _, c := range []struct {
		name string
		code string
		want int
	}{{"all expected", "exit 0", 0}, {"one unexpected", "exit 5", ExitAllDoneFailed}} {
		t.Run(c.name, func(t *testing.T) {
			a := program("a", 1, 1, "/bin/sh", "-c", "sleep 0.2; exit 0")
			b := program("b", 1, 1, "/bin/sh", "-c", "sleep 0.4; "+c.code)
			for _, g := range []*config.Group{a, b} {
				g.Processes[0].StartSecs, g.Processes[0].AutoRestart = 0, config.RestartNever
			}
			cfg := configOf(t.TempDir(), a, b)
			cfg.Supervisord.ExitWhenAllDone = true
			s := New(cfg, Options{})
			if got := runUntilEnd(t, s); got != c.want {
				t.Errorf("exit code %d, want %d", got, c.want)
			}
			if st := s.Group("b").Processes[0].Info().State; st.String() != "EXITED" {
				t.Errorf("b is %v, want EXITED: the daemon ended before every program did", st)
			}
		})
	}
}

// An autostart process that has not been started yet is not done: a file
// whose first program ends before the last one is spawned does not exit.
func TestAllDoneWaitsForUnstartedAutostart(t *testing.T) {
	later := program("later", 1, 1)
	manual := program("manual", 1, 1)
	manual.Processes[0].Autostart = false
	s := New(configOf(t.TempDir(), later, manual), Options{})
	e := &ends{s: s, restarting: map[*Process]bool{}}
	if _, done := e.allDone(); done {
		t.Error("all done before an autostart process was started")
	}
	s = New(configOf(t.TempDir(), manual), Options{})
	e = &ends{s: s, restarting: map[*Process]bool{}}
	if code, done := e.allDone(); !done || code != 0 {
		t.Errorf("only a never-started autostart=false process: done=%v code=%d, want true 0", done, code)
	}
}

// Only a process whose EXITED is followed by an autorestart is held in
// restarting, and only until its next state: the others (every program's
// STARTING and RUNNING) leave no entry.
func TestEndsHoldsOnlyRestartingProcesses(t *testing.T) {
	s := New(configOf(t.TempDir(), program("w", 1, 1)), Options{})
	e := &ends{s: s, restarting: map[*Process]bool{}}
	p := s.Group("w").Processes[0]
	state := func(from, to string, expected bool) {
		e.handle(events.ProcessState{Process: "w", Group: "w", From: from, To: to, Expected: expected})
	}
	state("STOPPED", "STARTING", false)
	state("STARTING", "RUNNING", false)
	if len(e.restarting) != 0 {
		t.Fatalf("after STARTING and RUNNING: %d entries, want none", len(e.restarting))
	}
	state("RUNNING", "EXITED", false) // unexpected: autorestart=unexpected restarts it
	if !e.restarting[p] || len(e.restarting) != 1 {
		t.Fatalf("after an unexpected exit: %v, want w restarting", e.restarting)
	}
	state("EXITED", "STARTING", false)
	if len(e.restarting) != 0 {
		t.Fatalf("after the restart: %d entries, want none", len(e.restarting))
	}
}
