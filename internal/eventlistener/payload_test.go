package eventlistener

import (
	"testing"

	"github.com/drover/drover/internal/events"
)

func TestPayload(t *testing.T) {
	tests := []struct {
		ev   events.Event
		want string
	}{
		{events.ProcessState{Process: "listener", Group: "listener", From: "STOPPED", To: "STARTING"},
			"processname:listener groupname:listener from_state:STOPPED tries:0"},
		{events.ProcessState{Process: "w", Group: "g", From: "STARTING", To: "BACKOFF", Tries: 2},
			"processname:w groupname:g from_state:STARTING tries:2"},
		{events.ProcessState{Process: "w", Group: "g", From: "STARTING", To: "RUNNING", PID: 42},
			"processname:w groupname:g from_state:STARTING pid:42"},
		{events.ProcessState{Process: "w", Group: "g", From: "RUNNING", To: "STOPPING", PID: 42},
			"processname:w groupname:g from_state:RUNNING pid:42"},
		{events.ProcessState{Process: "w", Group: "g", From: "BACKOFF", To: "STOPPED"},
			"processname:w groupname:g from_state:BACKOFF pid:0"},
		{events.ProcessState{Process: "w", Group: "g", From: "RUNNING", To: "EXITED", PID: 7, Expected: true},
			"processname:w groupname:g from_state:RUNNING expected:1 pid:7"},
		{events.ProcessState{Process: "w", Group: "g", From: "RUNNING", To: "EXITED", PID: 7},
			"processname:w groupname:g from_state:RUNNING expected:0 pid:7"},
		{events.ProcessState{Process: "w", Group: "g", From: "BACKOFF", To: "FATAL"},
			"processname:w groupname:g from_state:BACKOFF"},
		{events.ProcessState{Process: "w", Group: "g", From: "RUNNING", To: "UNKNOWN"},
			"processname:w groupname:g from_state:RUNNING"},
		{events.ProcessLog{Process: "w", Group: "g", PID: 9, Channel: "stderr", Data: []byte("oops\n")},
			"processname:w groupname:g pid:9 channel:stderr\noops\n"},
		{events.ProcessLog{Process: "w", Group: "g", PID: 9, Channel: "stdout", Data: []byte("a'\xff")},
			"processname:w groupname:g pid:9 channel:stdout\nUndecodable: b\"a'\\xff\""},
		{events.ProcessCommunication{Process: "w", Group: "g", PID: 9, Channel: "stdout", Data: []byte("hi")},
			"processname:w groupname:g pid:9\nhi"},
		{events.RemoteCommunication{Type: "t", Data: "d\n"}, "type:t\nd\n"},
		{events.SupervisorRunning{}, ""},
		{events.SupervisorStopping{}, ""},
		{events.ProcessGroupAdded{Group: "g"}, "groupname:g\n"},
		{events.ProcessGroupRemoved{Group: "g"}, "groupname:g\n"},
		{events.Tick{Period: 60, When: 1700000040}, "when:1700000040"},
	}
	for _, tt := range tests {
		got, ok := Payload(tt.ev)
		if !ok || got != tt.want {
			t.Errorf("Payload(%#v) = %q, %v; want %q", tt.ev, got, ok, tt.want)
		}
	}
}

func TestEnvelope(t *testing.T) {
	tests := []struct {
		payload, want string
	}{
		{"processname:listener groupname:listener from_state:STOPPED tries:0",
			"ver:3.0 server:supervisor serial:4 pool:listener poolserial:4 eventname:PROCESS_STATE_STARTING len:66\n" +
				"processname:listener groupname:listener from_state:STOPPED tries:0"},
		// len counts characters, not bytes.
		{"type:x\nhé€", "ver:3.0 server:supervisor serial:4 pool:listener poolserial:4 eventname:PROCESS_STATE_STARTING len:10\ntype:x\nhé€"},
		{"", "ver:3.0 server:supervisor serial:4 pool:listener poolserial:4 eventname:PROCESS_STATE_STARTING len:0\n"},
	}
	for _, tt := range tests {
		got := string(Envelope("supervisor", 4, "listener", 4, "PROCESS_STATE_STARTING", tt.payload))
		if got != tt.want {
			t.Errorf("Envelope(%q) = %q, want %q", tt.payload, got, tt.want)
		}
	}
}

func TestParseResultLength(t *testing.T) {
	tests := []struct {
		in string
		n  int
		ok bool
	}{
		{"2", 2, true}, {" 4 ", 4, true}, {"+3", 3, true}, {"1_0", 10, true},
		{"", 0, false}, {"OK", 0, false}, {"_1", 0, false}, {"1__0", 0, false}, {"-1", 0, false}, {"2x", 0, false},
	}
	for _, tt := range tests {
		n, ok := parseResultLength([]byte(tt.in))
		if n != tt.n || ok != tt.ok {
			t.Errorf("parseResultLength(%q) = %d, %v; want %d, %v", tt.in, n, ok, tt.n, tt.ok)
		}
	}
}
