package handover

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/eventlistener"
	"github.com/drover/drover/internal/pool"
	"github.com/drover/drover/internal/process"
	"github.com/drover/drover/internal/supervisor"
)

func TestStateRoundTrip(t *testing.T) {
	st := &State{Format: Format, Build: "b1", Images: 2, ConfigFile: "/etc/s.conf", Args: []string{"drover", "daemon"},
		PreviousExe: 7, Listeners: []Listener{{Section: "unix_http_server", Addr: "/run/s.sock", FD: 5}},
		Processes: []Process{{Group: "g", Name: "g_00", Command: "sleep 1",
			Adopted: supervisor.Adopted{Snapshot: process.Snapshot{State: process.Running, PID: 42, StdinFD: 8, StdoutFD: 9, StderrFD: -1},
				StdoutLog: "/var/log/a.log"}}},
		Events: &eventlistener.Handed{Serial: 41, Ticks: []int64{5, 60, 3600}, Pools: []eventlistener.HandedPool{{Group: "l", Serial: 9,
			Buffer: []eventlistener.HandedEvent{{Name: "TICK_5", Payload: []byte("when:5"), Serial: 40, PoolSerial: 8}},
			Listeners: []eventlistener.HandedListener{{Name: "l", State: "RUNNING", Session: &eventlistener.HandedSession{
				PID: 43, Protocol: eventlistener.Busy, Unread: []byte("RESULT 2\nO"), ResultLen: -1,
				Event: &eventlistener.HandedEvent{Name: "TICK_5", Payload: []byte("when:0"), Serial: 39, PoolSerial: 7}}}}}}}}
	f, err := write(st)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := read(int(f.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(st)
	b, _ := json.Marshal(got)
	if string(a) != string(b) {
		t.Errorf("read back\n%s\nwant\n%s", b, a)
	}
}

// A state of a newer format is refused, saying both versions.
func TestStateOfAnotherFormatIsRefused(t *testing.T) {
	f, err := write(&State{Format: Format + 1})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_, err = read(int(f.Fd()))
	want := fmt.Sprintf("hands over state format %d, this build reads formats %d to %d", Format+1, OldestFormat, Format)
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("got %v, want an error saying %q", err, want)
	}
}

func TestCheck(t *testing.T) {
	cfg := &config.Config{File: "/etc/s.conf",
		Groups: []*config.Group{{Name: "g", Processes: []*config.Process{{Name: "g_00", Command: "sleep 1"}}},
			{Name: "l", Kind: config.KindEventListener, Processes: []*config.Process{{Name: "l", Command: "listen"}}}},
		UnixHTTPServers: []config.UnixHTTPServer{{Section: "unix_http_server", File: "/run/s.sock"}}}
	proc := Process{Group: "g", Name: "g_00", Command: "sleep 1"}
	lsn := Process{Group: "l", Name: "l", Command: "listen"}
	sock := Listener{Section: "unix_http_server", Addr: "/run/s.sock"}
	for _, tc := range []struct {
		name string
		st   State
		want string // "" for no error
	}{
		{"same", State{Processes: []Process{proc}, Listeners: []Listener{sock}}, ""},
		{"removed program", State{Processes: []Process{{Group: "g", Name: "g_01", Command: "sleep 1"}}},
			"process g:g_01 is running but not in /etc/s.conf"},
		{"changed command", State{Processes: []Process{{Group: "g", Name: "g_00", Command: "sleep 2"}}},
			"the command of g:g_00 changed in /etc/s.conf"},
		{"listener", State{Processes: []Process{lsn}, Events: &eventlistener.Handed{Pools: []eventlistener.HandedPool{{Group: "l"}}}}, ""},
		{"program now a listener", State{Processes: []Process{lsn}}, "l changed between program and event listener in /etc/s.conf"},
		{"listener now a program", State{Processes: []Process{proc}, Events: &eventlistener.Handed{Pools: []eventlistener.HandedPool{{Group: "g"}}}},
			"g changed between program and event listener in /etc/s.conf"},
		{"a rolling update's process yet to replace", State{Processes: []Process{{Group: "g", Name: "g_00", Command: "sleep 2"}},
			Pools: []pool.Handed{{Group: "g", Roll: &pool.RollState{Update: true, Batch: 1, Surge: []string{"g_05"}, Todo: []string{"g_00"}}}}}, ""},
		{"a rolling update's process replaced", State{Processes: []Process{{Group: "g", Name: "g_00", Command: "sleep 2"}},
			Pools: []pool.Handed{{Group: "g", Roll: &pool.RollState{Update: true, Batch: 1, Surge: []string{"g_05"}, Todo: []string{"g_00"}, Done: 1}}}},
			"the command of g:g_00 changed in /etc/s.conf"},
		{"a rolling restart's process", State{Processes: []Process{{Group: "g", Name: "g_00", Command: "sleep 2"}},
			Pools: []pool.Handed{{Group: "g", Roll: &pool.RollState{Batch: 1, Surge: []string{"g_05"}, Todo: []string{"g_00"}}}}},
			"the command of g:g_00 changed in /etc/s.conf"},
		{"moved socket", State{Listeners: []Listener{{Section: "unix_http_server", Addr: "/tmp/other.sock"}}},
			"[unix_http_server] (/tmp/other.sock) changed"},
	} {
		err := Check(&tc.st, cfg)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: got %v, want %q", tc.name, err, tc.want)
		}
	}
}

// A state of format 1 (written before the stdin queue was handed over) is
// read: every later format only adds to it.
func TestStateOfFormat1IsRead(t *testing.T) {
	f, err := write(&State{Format: 1, Build: "old", Processes: []Process{{Group: "g", Name: "g_00", Command: "sleep 1"}}})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, err := read(int(f.Fd()))
	if err != nil || st.Build != "old" || len(st.Processes) != 1 || st.Processes[0].Snapshot.StdinPending != nil || st.Events != nil {
		t.Errorf("read a format-1 state: %+v, %v", st, err)
	}
}
