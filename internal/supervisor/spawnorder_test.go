package supervisor

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/process"
)

// TestSpawnOrderFollowsPriority forks real children and checks that they
// were forked in priority order, at autostart and again when started all
// at once: the kernel hands out pids in fork order. An autostart is
// answered as soon as its spawn is in line, before its fork, so that the
// next one is prepared meanwhile; the order must survive that.
func TestSpawnOrderFollowsPriority(t *testing.T) {
	// Names in the reverse order of priorities: neither name order nor
	// configuration order gives the priority order by chance.
	var groups []*config.Group
	const n = 24
	for i := range n {
		groups = append(groups, program(string(rune('z'-i)), 100+i, 1))
	}
	s := New(configOf(t.TempDir(), groups...), Options{})
	runInBackground(t, s)
	ps := s.ProcessesByPriority()
	forkOrder := func() []int {
		t.Helper()
		var pids []int
		for _, p := range ps {
			deadline := time.Now().Add(20 * time.Second)
			for p.Info().PID == 0 {
				if time.Now().After(deadline) {
					t.Fatalf("%s never started: %+v", p.Namespec, p.Info())
				}
				time.Sleep(5 * time.Millisecond)
			}
			pids = append(pids, p.Info().PID)
		}
		return pids
	}
	ordered := func(what string, pids []int) {
		t.Helper()
		if !slices.IsSorted(pids) && !wrapped(pids) {
			t.Errorf("%s: pids in priority order %v: not forked in priority order", what, pids)
		}
	}
	ordered("autostart", forkOrder())

	for _, p := range ps {
		if err := p.Stop(t.Context(), true); err != nil {
			t.Fatalf("stop %s: %v", p.Namespec, err)
		}
	}
	// As startAllProcesses does: each start waits for RUNNING, and the next
	// is asked for once the previous one is pending.
	var results []chan error
	for _, p := range ps {
		pending := make(chan struct{})
		var once sync.Once
		ctx := process.WithDeferredNotice(t.Context(), func() { once.Do(func() { close(pending) }) })
		result := make(chan error, 1)
		results = append(results, result)
		go func() { result <- p.Start(ctx, true) }()
		select {
		case <-pending:
		case err := <-result:
			// RUNNING already (a slow machine may not run this loop for
			// startsecs), or failed.
			if err != nil {
				t.Fatalf("start %s: %v", p.Namespec, err)
			}
			result <- nil
		}
	}
	for i, result := range results {
		if err := <-result; err != nil {
			t.Errorf("start %s: %v", ps[i].Namespec, err)
		}
	}
	ordered("start with wait", forkOrder())
}

// runInBackground runs s until the test ends, then shuts it down and
// checks that Run returns without error.
func runInBackground(t *testing.T, s *Supervisor) {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		_, err := s.Run(t.Context())
		done <- err
	}()
	<-s.Ready()
	t.Cleanup(func() {
		s.Shutdown()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run = %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("Run did not return after Shutdown")
		}
	})
}

// wrapped reports whether pids are in order but for one wrap of the pid
// counter past pid_max.
func wrapped(pids []int) bool {
	drops := 0
	for i := 1; i < len(pids); i++ {
		if pids[i] < pids[i-1] {
			drops++
		}
	}
	return drops == 1 && pids[len(pids)-1] < pids[0]
}
