package queue

import "testing"

func TestParseJobLine(t *testing.T) {
	for line, want := range map[string]JobLine{
		"[2026-11-25 17:02:05][xHbTR7CD] Processing: App\\Jobs\\ProcessThing": JobStarted,
		"[2026-11-25 17:02:05][xHbTR7CD] Processed:  App\\Jobs\\ProcessThing": JobDone,
		"[2026-11-25 17:02:06][xHbTR7CD] Failed:     App\\Jobs\\ProcessThing": JobFailed,
		"production.ERROR: boom Processed: nothing":                           NotAJobLine,
		"": NotAJobLine,
	} {
		if got := ParseJobLine([]byte(line)); got != want {
			t.Errorf("ParseJobLine(%q) = %d, want %d", line, got, want)
		}
	}
}
