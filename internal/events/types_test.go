package events

import "testing"

func TestIsA(t *testing.T) {
	tests := []struct {
		name, typ string
		want      bool
	}{
		{"PROCESS_STATE_RUNNING", "PROCESS_STATE_RUNNING", true},
		{"PROCESS_STATE_RUNNING", "PROCESS_STATE", true},
		{"PROCESS_STATE_RUNNING", "EVENT", true},
		{"PROCESS_STATE_RUNNING", "PROCESS_STATE_EXITED", false},
		{"PROCESS_STATE", "PROCESS_STATE_RUNNING", false},
		{"PROCESS_LOG_STDERR", "PROCESS_LOG", true},
		{"PROCESS_LOG_STDERR", "PROCESS_COMMUNICATION", false},
		{"PROCESS_COMMUNICATION_STDOUT", "PROCESS_COMMUNICATION", true},
		{"REMOTE_COMMUNICATION", "EVENT", true},
		{"REMOTE_COMMUNICATION", "PROCESS_COMMUNICATION", false},
		{"SUPERVISOR_STATE_CHANGE_STOPPING", "SUPERVISOR_STATE_CHANGE", true},
		{"TICK_60", "TICK", true},
		{"TICK_60", "TICK_5", false},
		{"PROCESS_GROUP_REMOVED", "PROCESS_GROUP", true},
		{"PROCESS_GROUP_REMOVED", "EVENT", true},
		{"EVENT", "EVENT", false}, // no event is ever published as the abstract root
		{"SOMETHING_ELSE", "EVENT", false},
	}
	for _, tt := range tests {
		if got := IsA(tt.name, tt.typ); got != tt.want {
			t.Errorf("IsA(%q, %q) = %v, want %v", tt.name, tt.typ, got, tt.want)
		}
	}
}

func TestEventNames(t *testing.T) {
	tests := []struct {
		ev   Event
		want string
	}{
		{ProcessLog{Channel: "stdout"}, "PROCESS_LOG_STDOUT"},
		{ProcessLog{Channel: "stderr"}, "PROCESS_LOG_STDERR"},
		{ProcessCommunication{Channel: "stdout"}, "PROCESS_COMMUNICATION_STDOUT"},
		{ProcessCommunication{Channel: "stderr"}, "PROCESS_COMMUNICATION_STDERR"},
		{Tick{Period: 5}, "TICK_5"},
		{Tick{Period: 60}, "TICK_60"},
		{Tick{Period: 3600}, "TICK_3600"},
		{ProcessState{To: "EXITED"}, "PROCESS_STATE_EXITED"},
	}
	for _, tt := range tests {
		if got := tt.ev.Name(); got != tt.want {
			t.Errorf("%#v.Name() = %q, want %q", tt.ev, got, tt.want)
		}
		if !IsA(tt.want, "EVENT") {
			t.Errorf("%s is not an EVENT", tt.want)
		}
	}
}
