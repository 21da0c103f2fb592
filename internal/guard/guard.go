// Package guard runs the daemon's goroutines so that a panic ends only the
// work it interrupted, never the daemon: every child gets its parent-death
// signal, so a daemon that dies takes every worker with it. A recovered
// panic is reported (the daemon sends it to the main log at CRIT with its
// stack) and handed back, so that the caller can leave what it owns in a
// safe, visible state.
//
// Only panics can be recovered: the Go runtime's fatal errors (a stack
// overflow, out of memory, a concurrent map write) still end the process.
package guard

import (
	"fmt"
	"os"
	"runtime/debug"
	"sync/atomic"
)

// Panic is a recovered panic.
type Panic struct {
	What  string // what was running, e.g. "runner of program web"
	Value any    // the value passed to panic
	Stack []byte // the goroutine's stack where it panicked
}

func (p *Panic) Error() string { return fmt.Sprintf("panic in %s: %v", p.What, p.Value) }

var reporter atomic.Pointer[func(*Panic)]

// SetReporter sends every panic recovered from now on to report, which must
// be safe for concurrent use. Until it is called, panics go to stderr.
func SetReporter(report func(*Panic)) { reporter.Store(&report) }

// Run calls f. If f panics, Run recovers, reports the panic and returns it;
// otherwise it returns nil.
func Run(what string, f func()) (p *Panic) {
	defer func() {
		if v := recover(); v != nil {
			p = &Panic{What: what, Value: v, Stack: debug.Stack()}
			report(p)
		}
	}()
	f()
	return nil
}

// Go runs f in a new goroutine under Run.
func Go(what string, f func()) {
	go Run(what, f)
}

func report(p *Panic) {
	if r := reporter.Load(); r != nil {
		(*r)(p)
		return
	}
	fmt.Fprintf(os.Stderr, "CRIT %v\n%s", p, p.Stack)
}
