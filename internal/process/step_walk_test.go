package process

import (
	"math/rand/v2"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/drover/drover/internal/config"
)

// TestStepOneSuccessPerSpawn walks step through random inputs in any order
// the Runner can deliver them (a timer firing after it was replaced or
// cancelled, an exit racing the startsecs timer, spawns failing, commands
// at any time, time jumping) and checks that "success:" is logged at most
// once per "spawned:". (A main log with two "success: worker_2" lines and
// no "spawned:" between came from two processes of that name in two
// groups: tests/conformance, TestAdoptChangesSharedNames.)
func TestStepOneSuccessPerSpawn(t *testing.T) {
	total := 0 // successes in all walks: the walk must reach RUNNING
	for seed := range uint64(300) {
		r := rand.New(rand.NewPCG(seed, 1))
		cfg := testConfig()
		cfg.StartSecs = time.Duration(r.IntN(3)) * time.Second
		cfg.AutoRestart = []config.AutoRestart{config.RestartNever, config.RestartAlways, config.RestartUnexpected}[r.IntN(3)]
		st := status{state: Stopped}
		now := t0
		child := false
		var timers []int // generations armed and not fired yet
		var events []event
		var trace []string
		successes := 0
		run := func(ev event) {
			events = append(events, ev)
			for len(events) > 0 {
				ev := events[0]
				events = events[1:]
				var acts []action
				st, acts = step(st, cfg, ev, now)
				trace = append(trace, ev.String())
				for _, a := range acts {
					switch a := a.(type) {
					case spawnAct:
						if r.IntN(4) == 0 {
							events = append(events, spawnFailed{"boom"})
						} else {
							child = true
							events = append(events, spawned{100 + len(trace)})
						}
					case armTimer:
						timers = append(timers, a.gen)
					case logAct:
						trace = append(trace, "  "+a.msg)
						switch {
						case strings.HasPrefix(a.msg, "spawned: "):
							successes = 0
						case strings.HasPrefix(a.msg, "success: "):
							successes++
							total++
							if successes > 1 {
								t.Fatalf("seed %d: a second success: with no spawned: between:\n%s", seed, strings.Join(trace, "\n"))
							}
						}
					}
				}
			}
		}
		for range 200 {
			now = now.Add(time.Duration(r.IntN(1500)) * time.Millisecond)
			switch x := r.IntN(10); {
			case x < 2:
				run(startCmd{auto: r.IntN(2) == 0})
			case x < 3:
				run(stopCmd{shutdown: r.IntN(4) == 0})
			case x < 4 && child:
				child = false
				run(exited{ExitStatus{Code: r.IntN(2)}})
			case x < 5:
				run(signalCmd{syscall.SIGHUP})
			case len(timers) > 0:
				i := r.IntN(len(timers))
				gen := timers[i]
				timers = append(timers[:i], timers[i+1:]...)
				run(timerFired{gen})
			}
		}
	}
	if total == 0 {
		t.Fatal("no walk logged success:")
	}
}
