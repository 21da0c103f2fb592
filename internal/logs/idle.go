package logs

import (
	"slices"
	"sync"
	"time"

	"github.com/drover/drover/internal/guard"
)

// IdleCloser closes the regular files of the ChildLogs given it once each
// has gone idleClose without output, with one timer for all of them: a
// timer per log cost about 0.3 KB a program, and the 1,000 timers of 500
// programs fired within the same second after start-up, a goroutine each.
// A Supervisor has one for all its logs.
type IdleCloser struct {
	mu    sync.Mutex
	open  []*ChildLog // logs with a regular file open; each knows its index (idleAt)
	timer *time.Timer // runs sweep; made at the first watch, stopped while open is empty
}

// NewIdleCloser returns a closer with no log to close.
func NewIdleCloser() *IdleCloser { return &IdleCloser{} }

// watch adds l, whose regular file was just opened; l.mu is held.
func (c *IdleCloser) watch(l *ChildLog) {
	c.mu.Lock()
	defer c.mu.Unlock()
	l.idleAt = len(c.open)
	c.open = append(c.open, l)
	switch {
	case c.timer == nil:
		c.timer = time.AfterFunc(idleClose, c.sweep)
	case len(c.open) == 1:
		c.timer.Reset(idleClose)
	}
}

// forget removes l, whose file is being closed; l.mu is held.
func (c *IdleCloser) forget(l *ChildLog) {
	c.mu.Lock()
	defer c.mu.Unlock()
	last := len(c.open) - 1
	moved := c.open[last]
	c.open[l.idleAt], moved.idleAt = moved, l.idleAt
	c.open[last] = nil
	c.open = c.open[:last]
	l.idleAt = -1
	if last == 0 {
		c.timer.Stop()
	}
}

// sweep closes the logs idle for idleClose and sets the timer for the
// next one due. The logs are locked one at a time, without c.mu, since a
// log calls watch and forget under its own lock.
func (c *IdleCloser) sweep() {
	guard.Run("idle close of logs", func() {
		c.mu.Lock()
		open := slices.Clone(c.open)
		c.mu.Unlock()
		next := idleClose
		for _, l := range open {
			if wait := l.closeIdle(); wait > 0 {
				next = min(next, wait)
			}
		}
		c.mu.Lock()
		if len(c.open) > 0 {
			// A log watched during the sweep is due idleClose after its
			// opening, not before next.
			c.timer.Reset(next)
		}
		c.mu.Unlock()
	})
}
