package eventlistener

import (
	"fmt"
	"unicode/utf8"

	"github.com/drover/drover/internal/events"
)

// Payload renders e as Supervisor sends it to listeners (the text after the
// header line). ok is false for events listeners never see.
func Payload(e events.Event) (payload string, ok bool) {
	switch e := e.(type) {
	case events.ProcessState:
		p := fmt.Sprintf("processname:%s groupname:%s from_state:%s", e.Process, e.Group, e.From)
		switch e.To {
		case "STARTING", "BACKOFF":
			p += fmt.Sprintf(" tries:%d", e.Tries)
		case "RUNNING", "STOPPING", "STOPPED":
			p += fmt.Sprintf(" pid:%d", e.PID)
		case "EXITED":
			expected := 0
			if e.Expected {
				expected = 1
			}
			p += fmt.Sprintf(" expected:%d pid:%d", expected, e.PID)
		}
		return p, true
	case events.ProcessLog:
		return fmt.Sprintf("processname:%s groupname:%s pid:%d channel:%s\n%s",
			e.Process, e.Group, e.PID, e.Channel, asString(e.Data)), true
	case events.ProcessCommunication:
		return fmt.Sprintf("processname:%s groupname:%s pid:%d\n%s",
			e.Process, e.Group, e.PID, asString(e.Data)), true
	case events.RemoteCommunication:
		return "type:" + e.Type + "\n" + e.Data, true
	case events.SupervisorRunning, events.SupervisorStopping:
		return "", true
	case events.ProcessGroupAdded:
		return "groupname:" + e.Group + "\n", true
	case events.ProcessGroupRemoved:
		return "groupname:" + e.Group + "\n", true
	case events.Tick:
		return fmt.Sprintf("when:%d", e.When), true
	}
	return "", false
}

// Envelope is the bytes written to a listener's stdin for one event: the
// header line and the payload. len counts characters, as Python's len(str).
func Envelope(identifier string, serial int64, pool string, poolSerial int64, name, payload string) []byte {
	return fmt.Appendf(nil, "ver:3.0 server:%s serial:%d pool:%s poolserial:%d eventname:%s len:%d\n%s",
		identifier, serial, pool, poolSerial, name, utf8.RuneCountInString(payload), payload)
}
