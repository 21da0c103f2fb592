package latch

import "testing"

func isClosed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// A channel asked for before Set is closed by it; one asked for after is
// closed already; Set twice does not close twice (which would panic).
func TestLatch(t *testing.T) {
	var early Latch
	before := early.Chan()
	if isClosed(before) || early.Chan() != before {
		t.Fatal("an unset latch's channel is closed, or not the same twice")
	}
	early.Set()
	early.Set()
	if !isClosed(before) || !isClosed(early.Chan()) {
		t.Fatal("Set left a channel open")
	}
	var late Latch
	late.Set()
	if !isClosed(late.Chan()) {
		t.Fatal("a channel asked for after Set is open")
	}
}
