package supervisor

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/drover/drover/internal/config"
)

func TestChildLogs(t *testing.T) {
	dir := t.TempDir()
	shared := filepath.Join(dir, "worker.log")
	workers := program("worker", 1, 3)
	for _, p := range workers.Processes {
		p.Stdout = config.ChildLog{Kind: config.LogFile, Path: shared}
		p.Stderr = config.ChildLog{Kind: config.LogFile, Path: shared}
	}
	redirected := program("redirected", 2, 1)
	redirected.Processes[0].RedirectStderr = true
	redirected.Processes[0].Stdout = config.ChildLog{Kind: config.LogAuto}
	redirected.Processes[0].Stderr = config.ChildLog{Kind: config.LogAuto}
	cfg := configOf(dir, workers, redirected, program("silent", 3, 1))
	cfg.Supervisord.Identifier = "myident"
	s := newSupervisor(t, cfg, Options{})
	gs := s.Groups()

	first := gs[0].Processes[0].stdout
	for _, p := range gs[0].Processes {
		if p.stdout != first || p.stderr != first {
			t.Errorf("%s does not share the log instance of %s", p.Namespec, shared)
		}
		if p.StdoutLogPath() != shared || p.Info().StdoutLog != shared {
			t.Errorf("%s: stdout log %q, info %q, want %q", p.Namespec, p.StdoutLogPath(), p.Info().StdoutLog, shared)
		}
	}
	if n := s.logs[shared].users; n != 6 {
		t.Errorf("users of %s = %d, want 6", shared, n)
	}

	r := gs[1].Processes[0]
	autoName := regexp.MustCompile(`^redirected-stdout---myident-.+\.log$`)
	if got := filepath.Base(r.StdoutLogPath()); filepath.Dir(r.StdoutLogPath()) != dir || !autoName.MatchString(got) {
		t.Errorf("AUTO stdout log = %q, want %s/%s", r.StdoutLogPath(), dir, autoName)
	}
	if _, err := os.Stat(r.StdoutLogPath()); err == nil {
		t.Errorf("AUTO log created with the group, before Run")
	}
	if path := r.StdoutLogFile(); path != r.StdoutLogPath() {
		t.Errorf("StdoutLogFile = %q, want %q", path, r.StdoutLogPath())
	} else if st, err := os.Stat(path); err != nil || st.Size() != 0 {
		t.Errorf("AUTO log not created empty for a reader: %v, %v", st, err)
	}
	if r.stderr != nil || r.StderrLogPath() != "" || r.Info().StderrLog != "" {
		t.Errorf("redirect_stderr: stderr log %q, info %q; want none", r.StderrLogPath(), r.Info().StderrLog)
	}
	if r.Info().StdoutLog != r.StdoutLogPath() {
		t.Errorf("AUTO stdout log %q, info %q", r.StdoutLogPath(), r.Info().StdoutLog)
	}
	if p := gs[2].Processes[0]; p.stdout != nil || p.stderr != nil {
		t.Errorf("NONE logs opened: %q, %q", p.StdoutLogPath(), p.StderrLogPath())
	}

	gs[0].releaseLogs(s)
	if _, open := s.logs[shared]; open {
		t.Errorf("%s still open after its last user left", shared)
	}
	if _, err := first.Write([]byte("x")); err == nil {
		t.Errorf("write to the released shared log succeeded; want it closed")
	}
	gs[1].releaseLogs(s)
	if len(s.logs) != 0 {
		t.Errorf("open logs after release: %v", s.logs)
	}
}

// Run has the AUTO files created once it has asked the autostart
// processes to start, those of programs it does not start too; a program
// added later has its files created at once.
func TestAutoLogFilesAfterRun(t *testing.T) {
	dir := t.TempDir()
	idle := program("idle", 1, 1)
	idle.Processes[0].Autostart = false
	idle.Processes[0].Stdout = config.ChildLog{Kind: config.LogAuto}
	idle.Processes[0].Stderr = config.ChildLog{Kind: config.LogAuto}
	later := program("later", 2, 1)
	later.Processes[0].Autostart = false
	later.Processes[0].Stdout = config.ChildLog{Kind: config.LogAuto}
	cfg := configOf(dir, idle)
	s := newSupervisor(t, cfg, Options{Load: func() (*config.Config, error) { return configOf(dir, idle, later), nil }})
	p := s.Group("idle").Processes[0]
	paths := []string{p.StdoutLogPath(), p.StderrLogPath()}
	for _, path := range paths {
		if _, err := os.Stat(path); err == nil {
			t.Fatalf("%s created before Run", path)
		}
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { _, err := s.Run(ctx); done <- err }()
	defer func() { cancel(); <-done }()
	<-s.Ready()
	if _, _, _, err := s.Reread(); err != nil {
		t.Fatal(err)
	}
	if err := s.AddGroup(t.Context(), "later"); err != nil {
		t.Fatal(err)
	}
	paths = append(paths, s.Group("later").Processes[0].StdoutLogPath())
	deadline := time.Now().Add(10 * time.Second)
	for _, path := range paths {
		for {
			_, err := os.Stat(path)
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s not created after Run: %v", path, err)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
}

func TestReopenAndClearLogs(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "web.log")
	web := program("web", 1, 1)
	web.Processes[0].Stdout = config.ChildLog{Kind: config.LogFile, Path: path}
	s := newSupervisor(t, configOf(dir, web), Options{})
	p := s.Group("web").Processes[0]

	write := func(text string) {
		t.Helper()
		if _, err := p.stdout.Write([]byte(text)); err != nil {
			t.Fatal(err)
		}
	}
	write("before\n")
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	s.ReopenLogs()
	write("after\n")
	if b, err := os.ReadFile(path); string(b) != "after\n" {
		t.Errorf("after ReopenLogs %s = %q, %v; want %q", path, b, err, "after\n")
	}
	// Not running: Supervisor has no dispatchers, so nothing to clear
	// (a running process's log is cleared: robust_disk_full.txtar,
	// clear_exited.txtar).
	if err := p.ClearLogs(); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(path); string(b) != "after\n" {
		t.Errorf("after ClearLogs of a process without a child %s = %q, %v; want %q", path, b, err, "after\n")
	}
}

func TestNewLogError(t *testing.T) {
	dir := t.TempDir()
	bad := program("bad", 2, 1)
	bad.Processes[0].Stdout = config.ChildLog{Kind: config.LogAuto}
	good := program("good", 1, 1)
	good.Processes[0].Stdout = config.ChildLog{Kind: config.LogFile, Path: filepath.Join(dir, "good.log")}
	cfg := configOf(filepath.Join(dir, "missing"), good, bad)
	s := New(cfg, Options{})
	if restart, err := s.Run(t.Context()); restart || err == nil {
		t.Fatalf("Run() = %v, %v; want the AUTO log error", restart, err)
	}
	if len(s.Groups()) != 0 || len(s.logs) != 0 {
		t.Errorf("after a failed New: groups %v, open logs %v; want none", s.Groups(), s.logs)
	}
}
