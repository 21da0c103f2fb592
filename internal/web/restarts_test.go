package web

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/drover/drover/internal/events"
)

func TestRestartsInTheLastHour(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tr := newRestartTracker()
		start := func(group, name string) {
			tr.observe(events.ProcessState{Group: group, Process: name, From: "EXITED", To: "STARTING"})
		}
		start("g", "a") // the first start is no restart
		tr.observe(events.ProcessState{Group: "g", Process: "a", From: "STARTING", To: "RUNNING"})
		start("g", "a")
		start("g", "a")
		start("h", "b")
		if got := tr.lastHour(); got != 2 {
			t.Fatalf("lastHour = %d, want 2", got)
		}
		time.Sleep(61 * time.Minute)
		start("g", "a")
		if got, n := tr.lastHour(), tr.count("g", "a"); got != 1 || n != 3 {
			t.Fatalf("an hour later: lastHour %d, count %d; want 1 and 3", got, n)
		}
		tr.forgetGroup("g")
		if n := tr.count("g", "a"); n != 0 {
			t.Fatalf("count after the group went: %d", n)
		}
	})
}
