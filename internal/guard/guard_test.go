package guard

import (
	"errors"
	"strings"
	"testing"
)

// reportTo makes the reporter send every panic to a channel for the test.
func reportTo(t *testing.T) <-chan *Panic {
	reported := make(chan *Panic, 4)
	SetReporter(func(p *Panic) { reported <- p })
	t.Cleanup(func() { reporter.Store(nil) })
	return reported
}

func TestRunRecoversAndReports(t *testing.T) {
	reported := reportTo(t)
	if p := Run("calm", func() {}); p != nil {
		t.Fatalf("Run without a panic = %v", p)
	}
	p := Run("runner of program web", func() { panic("boom") })
	if p == nil || p.Value != "boom" || p.Error() != "panic in runner of program web: boom" {
		t.Fatalf("Run = %#v", p)
	}
	if !strings.Contains(string(p.Stack), "guard.TestRunRecoversAndReports") {
		t.Errorf("stack does not show where it panicked:\n%s", p.Stack)
	}
	if got := <-reported; got != p {
		t.Errorf("reported %v, want %v", got, p)
	}
}

func TestGoRecoversAndReports(t *testing.T) {
	reported := reportTo(t)
	Go("pump", func() { panic(errors.New("bad write")) })
	if got := <-reported; got.What != "pump" || got.Error() != "panic in pump: bad write" {
		t.Errorf("reported %v", got)
	}
}

func TestRunRecoversPanicNil(t *testing.T) {
	reportTo(t)
	if p := Run("nil", func() { panic(nil) }); p == nil {
		t.Fatal("panic(nil) was not recovered")
	}
}
