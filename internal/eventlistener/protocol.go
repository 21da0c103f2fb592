package eventlistener

import (
	"bytes"
	"fmt"

	"github.com/drover/drover/internal/config"
)

// State is a listener's protocol state, with Supervisor's codes.
type State int

const (
	Ready        State = 10
	Busy         State = 20
	Acknowledged State = 30 // awaiting READY; the state of a new listener
	Unknown      State = 40 // protocol violated: no more events until restarted
)

// String returns Supervisor's name of s, e.g. "READY".
func (s State) String() string {
	switch s {
	case Ready:
		return "READY"
	case Busy:
		return "BUSY"
	case Acknowledged:
		return "ACKNOWLEDGED"
	}
	return "UNKNOWN"
}

const (
	readyToken  = "READY\n"
	resultToken = "RESULT " // only its length matters: Supervisor skips it unchecked
)

// effect is what reading a listener's output causes, in order: a main-log
// line, or (requeue) giving the event the listener was busy with back to
// its pool.
type effect struct {
	level   config.LogLevel
	text    string
	requeue bool
}

// protocol is Supervisor's reading of one listener's stdout: a state machine
// fed with the bytes as they arrive, in chunks of any size.
type protocol struct {
	name      string // process name, for the log lines
	state     State
	buf       []byte // bytes not yet consumed
	resultLen int    // -1 until the RESULT line of the current answer is read
	resultGot int    // bytes of the result body read so far
	result    []byte // the start of the body: enough to tell "OK" from the rest
}

// maxResultLine bounds a RESULT line still waiting for its newline: a
// listener writing without end must not grow the daemon (Supervisor keeps
// all of it).
const maxResultLine = 4096

func newProtocol(name string) protocol {
	return protocol{name: name, state: Acknowledged, resultLen: -1}
}

// send records that an event was written to the listener: READY → BUSY.
func (p *protocol) send() { p.state = Busy }

// feed consumes data and returns what it causes, in order. The event a
// listener was busy with is done with once it leaves BUSY: processed, or
// given back (an effect with requeue).
func (p *protocol) feed(data []byte) (effects []effect) {
	p.buf = append(p.buf, data...)
	log := func(level config.LogLevel, text string) {
		effects = append(effects, effect{level: level, text: text})
	}
	change := func(to State) {
		log(config.LevelDebug, fmt.Sprintf("%s: %s -> %s", p.name, p.state, to))
		p.state = to
		if to == Unknown {
			log(config.LevelWarn, p.name+": has entered the UNKNOWN state and will no "+
				"longer receive events, this usually indicates the process violated the eventlistener protocol")
		}
	}
	requeue := func() { effects = append(effects, effect{requeue: true}) }
	for len(p.buf) > 0 {
		switch p.state {
		case Unknown:
			p.buf = nil
		case Acknowledged:
			if len(p.buf) < len(readyToken) {
				return effects
			}
			if bytes.HasPrefix(p.buf, []byte(readyToken)) {
				change(Ready)
				p.buf = p.buf[len(readyToken):]
			} else {
				change(Unknown)
				p.buf = nil
			}
		case Ready:
			// Output while waiting for an event: Supervisor is strict about it.
			change(Unknown)
			p.buf = nil
		case Busy:
			if p.resultLen < 0 {
				nl := bytes.IndexByte(p.buf[:min(len(p.buf), maxResultLine+1)], '\n')
				if nl < 0 && len(p.buf) <= maxResultLine {
					return effects
				}
				var line []byte
				if nl < 0 {
					line, p.buf = p.buf[:maxResultLine], nil
				} else {
					line, p.buf = p.buf[:nl], p.buf[nl+1:]
				}
				n, ok := parseResultLength(line[min(len(resultToken), len(line)):])
				if !ok {
					log(config.LevelWarn, fmt.Sprintf("%s: bad result line: '%s'", p.name, asString(line)))
					change(Unknown)
					requeue()
					p.buf = nil
					return effects
				}
				p.resultLen = n
				continue
			}
			take := min(p.resultLen-p.resultGot, len(p.buf))
			if keep := min(take, len("OK")+1-len(p.result)); keep > 0 {
				p.result = append(p.result, p.buf[:keep]...)
			}
			p.resultGot += take
			p.buf = p.buf[take:]
			if p.resultGot < p.resultLen {
				return effects
			}
			// Supervisor's default_handler: exactly "OK" accepts.
			if string(p.result) == "OK" {
				log(config.LevelDebug, p.name+": event was processed")
				change(Acknowledged)
			} else {
				log(config.LevelWarn, p.name+": event was rejected")
				change(Acknowledged)
				requeue()
			}
			p.result, p.resultLen, p.resultGot = nil, -1, 0
		}
	}
	return effects
}
