package autoscale

import (
	"strings"
	"testing"
	"time"
)

func TestDecide(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	base := Inputs{Min: 1, Max: 10, Step: 2, JobsPerWorker: 1, Cooldown: 10 * time.Second, Now: now}
	tests := []struct {
		name   string
		edit   func(*Inputs)
		target int
		reason string // prefix
	}{
		{"idle worker takes the waiting job", func(in *Inputs) { in.Workers, in.Ready = 2, 2 }, 2, "steady"},
		{"idle at min holds", func(in *Inputs) { in.Workers = 1 }, 1, "steady"},
		{"below min returns at once", func(in *Inputs) { in.Min, in.Workers = 3, 1; in.LastChange = now }, 3, "below numprocs_min"},
		{"above max returns at once", func(in *Inputs) { in.Workers = 12; in.LastChange = now }, 10, "above numprocs_max"},
		{"ready jobs grow by one step", func(in *Inputs) { in.Workers, in.Ready = 1, 20 }, 3, "grow to 3 (want 10)"},
		{"due delayed jobs count as ready", func(in *Inputs) { in.Workers, in.Reserved, in.Due = 1, 1, 1 }, 2, "grow to 2 (want 2)"},
		{"busy workers plus waiting", func(in *Inputs) { in.Workers, in.Reserved, in.Ready = 4, 4, 1 }, 5, "grow to 5 (want 5)"},
		{"draining workers are not capacity", func(in *Inputs) { in.Workers, in.Draining, in.Reserved, in.Ready = 2, 3, 5, 2 }, 4, "grow to 4"},
		{"growth capped at max", func(in *Inputs) { in.Workers, in.Ready = 9, 50 }, 10, "grow to 10 (want 10)"},
		{"at max with backlog holds", func(in *Inputs) { in.Workers, in.Ready = 10, 50 }, 10, "steady"},
		{"jobs per worker divides the backlog", func(in *Inputs) { in.Workers, in.Ready, in.JobsPerWorker = 1, 9, 5 }, 2, "grow to 2 (want 2)"},
		{"all busy never shrinks", func(in *Inputs) { in.Workers, in.Reserved = 6, 6 }, 6, "steady"},
		{"in flight above workers (crashed reservations) never shrinks", func(in *Inputs) { in.Workers, in.Reserved = 3, 7 }, 3, "steady"},
		{"empty queue shrinks by one step", func(in *Inputs) { in.Workers = 6 }, 4, "shrink to 4 (want 1)"},
		{"shrink keeps busy ones", func(in *Inputs) { in.Workers, in.Reserved = 6, 5; in.Step = 5 }, 5, "shrink to 5 (want 5)"},
		{"shrink stops at min", func(in *Inputs) { in.Workers, in.Min = 3, 2 }, 2, "shrink to 2 (want 2)"},
		{"cooldown holds growth", func(in *Inputs) { in.Workers, in.Ready, in.LastChange = 2, 5, now.Add(-4*time.Second) }, 2, "cooldown (6s left, want 5)"},
		{"cooldown holds shrink", func(in *Inputs) { in.Workers, in.LastChange = 5, now.Add(-time.Second) }, 5, "cooldown"},
		{"cooldown over", func(in *Inputs) { in.Workers, in.Ready, in.LastChange = 2, 5, now.Add(-10*time.Second) }, 4, "grow to 4"},
		{"long wait grows past the jobs-per-worker rule", func(in *Inputs) {
			in.Workers, in.Ready, in.JobsPerWorker, in.MaxWait, in.OldestWait = 2, 3, 10, 30*time.Second, 45*time.Second
		}, 4, "grow to 4 (want 4)"},
		{"long wait ignored with nothing waiting", func(in *Inputs) {
			in.Workers, in.MaxWait, in.OldestWait = 2, 30*time.Second, 45*time.Second
		}, 1, "shrink to 1"},
		{"step zero acts as one", func(in *Inputs) { in.Workers, in.Ready, in.Step = 1, 9, 0 }, 2, "grow to 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := base
			tt.edit(&in)
			d := Decide(in)
			if d.Target != tt.target || !strings.HasPrefix(d.Reason, tt.reason) {
				t.Errorf("Decide(%+v) = %d %q, want %d %q...", in, d.Target, d.Reason, tt.target, tt.reason)
			}
		})
	}
}
