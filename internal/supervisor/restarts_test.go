package supervisor

import (
	"testing"
	"time"
)

func TestRecentRestartsAreBounded(t *testing.T) {
	var b restartBook
	now := time.Now()
	for i := range maxRecentRestarts + 5 {
		b.noteRestart(now.Add(time.Duration(i) * time.Millisecond))
	}
	if got := b.since(now.Add(-time.Second)); got != maxRecentRestarts {
		t.Fatalf("since = %d, want the bound %d", got, maxRecentRestarts)
	}
	if got := b.since(now.Add(time.Duration(maxRecentRestarts) * time.Millisecond)); got != 4 {
		t.Fatalf("since the 10,001st = %d, want 4", got)
	}
}
