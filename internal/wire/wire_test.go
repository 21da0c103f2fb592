package wire

import "testing"

func TestFaultText(t *testing.T) {
	for _, tc := range []struct {
		code   int
		detail []string
		want   string
	}{
		{FaultBadName, []string{"foo"}, "BAD_NAME: foo"},
		{FaultShutdownState, nil, "SHUTDOWN_STATE"},
		{FaultCannotRoll, []string{CannotRollPrefix + "why"}, "FAILED: cannot roll: why"},
		{12345, nil, "UNKNOWN"},
	} {
		if got := FaultText(tc.code, tc.detail...); got != tc.want {
			t.Errorf("FaultText(%d, %q) = %q, want %q", tc.code, tc.detail, got, tc.want)
		}
	}
}

// Drover's own faults stay clear of Supervisor's codes (all below 100 in
// 4.2.5), so that a code read from the wire names one fault only.
func TestDroverFaultsAboveSupervisors(t *testing.T) {
	for code, name := range faultNames {
		if code >= 100 && code < 1000 {
			t.Errorf("fault %d (%s) is in neither Supervisor's range nor Drover's (1000+)", code, name)
		}
	}
}

func TestStateNames(t *testing.T) {
	for s, want := range map[ProcessState]string{ProcessStopped: "STOPPED", ProcessBackoff: "BACKOFF",
		ProcessFatal: "FATAL", ProcessUnknown: "UNKNOWN", 42: "UNKNOWN"} {
		if s.String() != want {
			t.Errorf("%d.String() = %q, want %q", int(s), s, want)
		}
	}
	if !ProcessExited.IsStopped() || ProcessExited.IsRunning() || !ProcessBackoff.IsRunning() || ProcessBackoff.IsSignallable() {
		t.Error("state sets differ from Supervisor's STOPPED_STATES/RUNNING_STATES/SIGNALLABLE_STATES")
	}
	if SupervisorShutdown.String() != "SHUTDOWN" || SupervisorRunning.String() != "RUNNING" {
		t.Error("supervisor state names differ from Supervisor's")
	}
}
