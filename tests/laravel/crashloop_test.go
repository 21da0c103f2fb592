package laravel_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// The crash-loop replay must accept what Supervisor does and reject what it
// does not; it needs neither php nor Redis.
func TestCrashLoopReplay(t *testing.T) {
	const (
		exit   = "WARN exited: w_00 (exit status 1; not expected)"
		spawn  = "INFO spawned: 'w_00' with pid 7"
		ok     = "INFO success: w_00 entered RUNNING state, process has stayed up for > than 5 seconds (startsecs)"
		gaveUp = "INFO gave up: w_00 entered FATAL state, too many start retries too quickly"
	)
	canonical := []string{
		"00.000 " + exit, // the running worker loses Redis
		"00.005 " + spawn, "00.300 " + exit,
		"01.301 " + spawn, "01.600 " + exit,
		"03.601 " + spawn, "03.900 " + exit,
		"06.901 " + spawn, "07.200 " + exit, "07.200 " + gaveUp,
	}
	tests := []struct {
		name        string
		lines       []string
		fromRunning bool
		ok          bool
	}{
		{"canonical", canonical, true, true},
		{"from FATAL (start)", canonical[1:], false, true},
		{"backoff delay too short", replace(canonical, 5, "02.601 "+spawn), true, false},
		{"FATAL after 3 quick exits", append(append([]string{}, canonical[:7]...), "03.900 "+gaveUp), true, false},
		{"no FATAL", canonical[:9], true, false},
		{"other exit status", replace(canonical, 2, "00.300 WARN exited: w_00 (exit status 2; not expected)"), true, false},
		{"RUNNING before startsecs", replace(canonical, 2, "00.300 "+ok), true, false},
		{"restarted at once after a quick exit", replace(canonical, 3, "00.301 "+spawn), true, false},
		{
			// Recorded with a load average of 18: the second attempt
			// outlived startsecs, which resets the count.
			"an attempt that ran", []string{
				"48.477 " + exit,
				"48.483 " + spawn, "52.351 " + exit,
				"53.357 " + spawn, "58.362 " + ok, "59.496 " + exit,
				"59.509 " + spawn, "63.494 " + exit,
				"64.500 " + spawn, "64.947 " + exit,
				"66.982 " + spawn, "67.718 " + exit,
				"70.719 " + spawn, "71.294 " + exit, "71.294 " + gaveUp,
			}, true, true,
		},
		{
			// Exits 4.5 s after the spawn line: judged by what follows,
			// here an immediate respawn (it ran).
			"exit just short of startsecs, then respawn at once", []string{
				"00.000 " + exit,
				"00.005 " + spawn, "04.505 " + exit,
				"04.510 " + spawn, "04.800 " + exit,
				"05.801 " + spawn, "06.100 " + exit,
				"08.101 " + spawn, "08.400 " + exit,
				"11.401 " + spawn, "11.700 " + exit, "11.700 " + gaveUp,
			}, true, true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			problem := crashLoopProblem(mainLog(tt.lines), "w_00", 5e9, tt.fromRunning)
			if (problem == "") != tt.ok {
				t.Errorf("accepted = %v, want %v; problem: %s", problem == "", tt.ok, problem)
			}
		})
	}
}

func replace(lines []string, i int, line string) []string {
	out := append([]string{}, lines...)
	out[i] = line
	return out
}

// mainLog turns "SS.mmm text" lines into main log lines (seconds past
// 18:00; they may exceed 59).
func mainLog(lines []string) string {
	var b strings.Builder
	for _, l := range lines {
		ts, text, _ := strings.Cut(l, " ")
		sec, ms, _ := strings.Cut(ts, ".")
		s, _ := strconv.Atoi(sec)
		fmt.Fprintf(&b, "2026-11-25 18:%02d:%02d,%s %s\n", s/60, s%60, ms, text)
	}
	return b.String()
}
