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

// logLine is a main-log line to write.
type logLine struct {
	level config.LogLevel
	text  string
}

// protocol is Supervisor's reading of one listener's stdout: a state machine
// fed with the bytes as they arrive, in chunks of any size.
type protocol struct {
	name      string // process name, for the log lines
	state     State
	buf       []byte // bytes not yet consumed
	resultLen int    // -1 until the RESULT line of the current answer is read
	result    []byte
}

func newProtocol(name string) protocol {
	return protocol{name: name, state: Acknowledged, resultLen: -1}
}

// answer says how the listener's output ended the event it was busy with.
type answer int

const (
	noAnswer  answer = iota
	processed        // the result handler accepted the result
	rejected         // the event goes back to the head of the pool's buffer
)

// send records that an event was written to the listener: READY → BUSY.
func (p *protocol) send() { p.state = Busy }

// feed consumes data and returns the log lines it causes, in order, and how
// the outstanding event (if any) was answered.
func (p *protocol) feed(data []byte) (logs []logLine, ans answer) {
	p.buf = append(p.buf, data...)
	change := func(to State) {
		logs = append(logs, logLine{config.LevelDebug, fmt.Sprintf("%s: %s -> %s", p.name, p.state, to)})
		p.state = to
		if to == Unknown {
			logs = append(logs, logLine{config.LevelWarn, p.name + ": has entered the UNKNOWN state and will no " +
				"longer receive events, this usually indicates the process violated the eventlistener protocol"})
		}
	}
	for len(p.buf) > 0 {
		switch p.state {
		case Unknown:
			p.buf = nil
		case Acknowledged:
			if len(p.buf) < len(readyToken) {
				return logs, ans
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
				nl := bytes.IndexByte(p.buf, '\n')
				if nl < 0 {
					return logs, ans
				}
				line := p.buf[:nl]
				p.buf = p.buf[nl+1:]
				n, ok := parseResultLength(line[min(len(resultToken), len(line)):])
				if !ok {
					logs = append(logs, logLine{config.LevelWarn, fmt.Sprintf("%s: bad result line: '%s'", p.name, asString(line))})
					change(Unknown)
					p.buf = nil
					return logs, rejected
				}
				p.resultLen = n
				continue
			}
			need := p.resultLen - len(p.result)
			take := min(need, len(p.buf))
			p.result = append(p.result, p.buf[:take]...)
			p.buf = p.buf[take:]
			if len(p.result) < p.resultLen {
				return logs, ans
			}
			// Supervisor's default_handler: exactly "OK" accepts.
			if string(p.result) == "OK" {
				logs = append(logs, logLine{config.LevelDebug, p.name + ": event was processed"})
				ans = processed
			} else {
				logs = append(logs, logLine{config.LevelWarn, p.name + ": event was rejected"})
				ans = rejected
			}
			change(Acknowledged)
			p.result, p.resultLen = nil, -1
		}
	}
	return logs, ans
}
