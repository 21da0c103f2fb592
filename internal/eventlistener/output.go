package eventlistener

import (
	"bytes"
	"io"
	"slices"
	"sync"

	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/events"
	"github.com/drover/drover/internal/process"
	"github.com/drover/drover/internal/pyrepr"
)

// The tokens that start and end capture mode.
var (
	beginToken = []byte("<!--XSUPERVISOR:BEGIN-->")
	endToken   = []byte("<!--XSUPERVISOR:END-->")
)

// Output is the sink of one output channel of a process whose channel has
// capture mode (*_capture_maxbytes) or events (*_events_enabled) on, or
// whose output the main log echoes. It passes the output to the channel's
// log, except what is written between the capture tokens, which becomes a
// PROCESS_COMMUNICATION event; with events enabled every chunk logged or
// captured is also a PROCESS_LOG event; with echo, every such chunk is also
// a DEBG line of the main log.
type Output struct {
	bus        *events.Bus
	log        process.Logger
	sink       io.Writer // the channel's log; nil discards
	name       string    // process name
	group      string
	channel    string // "stdout" or "stderr"
	captureMax int64
	logEvents  bool
	stripANSI  bool
	echo       bool
}

// NewOutput returns the writer to give a runner for one channel ("stdout" or
// "stderr") of pc: sink itself when the channel has neither capture mode nor
// events and the main log does not echo it, else an *Output writing to sink.
// Supervisor echoes child output to the main log when its loglevel is debug
// or finer (mainLevel).
func NewOutput(bus *events.Bus, log process.Logger, mainLevel config.LogLevel, pc *config.Process, channel string, sink io.Writer, stripANSI bool) io.Writer {
	lc := pc.Stdout
	if channel == "stderr" {
		lc = pc.Stderr
	}
	echo := log != nil && mainLevel <= config.LevelDebug
	if lc.CaptureMaxBytes <= 0 && !lc.EventsEnabled && !echo {
		return sink
	}
	return &Output{
		bus: bus, log: log, sink: sink,
		name: pc.Name, group: pc.Group, channel: channel,
		captureMax: lc.CaptureMaxBytes, logEvents: lc.EventsEnabled, stripANSI: stripANSI, echo: echo,
	}
}

// Write passes p to the log: output not tied to a child (the runner gives
// each child its own writer, see ForSpawn).
func (o *Output) Write(p []byte) (int, error) {
	if o.sink == nil {
		return len(p), nil
	}
	return o.sink.Write(p)
}

// ForSpawn returns the writer of one child: capture state and held-back
// bytes do not outlive it, as in Supervisor.
func (o *Output) ForSpawn() process.ChildWriter { return &childOutput{o: o} }

// childOutput is Supervisor's output dispatcher for one child.
type childOutput struct {
	o         *Output
	mu        sync.Mutex
	pid       int
	spawned   bool
	buf       []byte // output not yet logged or captured
	capturing bool
	captured  []byte
}

func (c *childOutput) Spawned(pid int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pid, c.spawned = pid, true
	c.record()
}

func (c *childOutput) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.buf = append(c.buf, p...)
	if c.spawned { // until then the pid for the events is unknown
		c.record()
	}
	return len(p), nil
}

// record logs or captures the buffered output. With capture mode on it
// holds back anything that could be the start of the next token, and
// anything no longer than that token, as Supervisor does.
func (c *childOutput) record() {
	if c.o.captureMax <= 0 {
		data := c.buf
		c.buf = nil
		c.emit(data)
		return
	}
	for {
		token := beginToken
		if c.capturing {
			token = endToken
		}
		if len(c.buf) <= len(token) {
			return
		}
		data := c.buf
		c.buf = nil
		i := bytes.Index(data, token)
		if i < 0 {
			if k := prefixAtEnd(data, token); k > 0 {
				c.buf = slices.Clone(data[len(data)-k:])
				data = data[:len(data)-k]
			}
			c.emit(data)
			return
		}
		c.emit(data[:i])
		c.toggle()
		c.buf = slices.Clone(data[i+len(token):])
		if len(c.buf) == 0 {
			return
		}
	}
}

// emit is Supervisor's _log: data goes to the log or the capture buffer, to
// the main log when echoed, and to a PROCESS_LOG event when enabled.
func (c *childOutput) emit(data []byte) {
	if len(data) == 0 {
		return
	}
	o := c.o
	if !c.capturing && o.sink != nil {
		// The log strips ANSI escapes itself when asked to.
		_, _ = o.sink.Write(data)
	}
	if o.stripANSI {
		data = stripEscapes(data)
	}
	if c.capturing {
		// Supervisor's BoundIO: drop as many old bytes as are written.
		if int64(len(c.captured)+len(data)) > o.captureMax {
			c.captured = c.captured[min(len(data), len(c.captured)):]
		}
		c.captured = append(c.captured, data...)
	}
	if o.echo {
		o.log.Logf(config.LevelDebug, "%s %s output:\n%s", pyrepr.Str(o.name), o.channel, asString(data))
	}
	if o.logEvents {
		o.bus.Publish(events.ProcessLog{
			Process: o.name, Group: o.group, PID: c.pid, Channel: o.channel, Data: slices.Clone(data),
		})
	}
}

func (c *childOutput) toggle() {
	c.capturing = !c.capturing
	if c.capturing {
		return
	}
	o := c.o
	o.bus.Publish(events.ProcessCommunication{
		Process: o.name, Group: o.group, PID: c.pid, Channel: o.channel, Data: c.captured,
	})
	if o.log != nil {
		o.log.Logf(config.LevelDebug, "%s %s emitted a comm event", pyrepr.Str(o.name), o.channel)
	}
	c.captured = nil
}

// prefixAtEnd returns the length of the longest proper prefix of token that
// data ends with.
func prefixAtEnd(data, token []byte) int {
	for l := len(token) - 1; l > 0; l-- {
		if bytes.HasSuffix(data, token[:l]) {
			return l
		}
	}
	return 0
}

var ansiTerminators = []byte("HfABCDRsuJKhlpm")

// stripEscapes removes ANSI escapes from one chunk as Supervisor does (each
// chunk on its own): from ESC '[' to the next terminator letter.
func stripEscapes(s []byte) []byte {
	var out []byte
	show := true
	for i := 0; i < len(s); i++ {
		if !show {
			if bytes.IndexByte(ansiTerminators, s[i]) >= 0 {
				show = true
			}
			continue
		}
		n := bytes.Index(s[i:], []byte("\x1b["))
		if n < 0 {
			return append(out, s[i:]...)
		}
		out = append(out, s[i:i+n]...)
		i += n
		show = false
	}
	return out
}
