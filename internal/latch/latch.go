// Package latch owns Latch: a signal set once, whose channel is made only
// when someone asks for it. The daemon keeps several per program (a
// Runner's end, a child's drained output, a group's end), and most are
// never waited on: an unmade channel saves about 100 bytes.
package latch

// closed is the channel of every Latch once set.
var closed = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

// Latch is unset until Set; the zero value is unset. It takes no lock: its
// owner calls its methods under a lock of its own. It is one word.
type Latch struct {
	// ch is nil until asked for (Chan) or set, and closed once set.
	ch chan struct{}
}

// Set sets the latch, closing the channel Chan gave out, if any. Setting
// it again does nothing.
func (l *Latch) Set() {
	if l.ch == closed {
		return
	}
	if l.ch != nil {
		close(l.ch) // the waiters' channel
	}
	l.ch = closed
}

// Chan is closed once the latch is set.
func (l *Latch) Chan() <-chan struct{} {
	if l.ch == nil {
		l.ch = make(chan struct{})
	}
	return l.ch
}
