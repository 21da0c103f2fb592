package handover

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/drover/drover/internal/config"
	"golang.org/x/sys/unix"
)

// FuzzReadState: the state a new image reads from its memfd (written by
// the previous image, which may be an older or a broken build) is taken
// or refused without a panic, and what is taken is checked against a
// configuration without one; it writes and reads back unchanged.
func FuzzReadState(f *testing.F) {
	for _, st := range []*State{
		{Format: Format, Build: "b1", PreviousExe: -1, Processes: []Process{{Group: "g", Name: "g_00", Command: "sleep 1"}},
			Listeners: []Listener{{Section: "unix_http_server", Addr: "/run/s.sock", FD: 5}}},
		{Format: OldestFormat},
	} {
		b, err := json.Marshal(st)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"format":3,"events":{"pools":[{"group":"l"}]},"processes":[{"group":"l","name":"l"}]}`))
	f.Add([]byte(`{"format":4,"pools":[{"group":"g","leased":2,"roll":{"update":true,"batch":1,"surge":["g_05"],"todo":["g_00"],"done":0}}],"processes":[{"group":"g","name":"g_00","command":"sleep 2"}]}`))
	cfg := &config.Config{File: "/etc/s.conf",
		Groups: []*config.Group{{Name: "g", Processes: []*config.Process{{Name: "g_00", Command: "sleep 1"}}},
			{Name: "l", Kind: config.KindEventListener, Processes: []*config.Process{{Name: "l", Command: "listen"}}}},
		UnixHTTPServers: []config.UnixHTTPServer{{Section: "unix_http_server", File: "/run/s.sock"}}}
	f.Fuzz(func(t *testing.T, state []byte) {
		fd, err := unix.MemfdCreate("fuzz-handover", unix.MFD_CLOEXEC)
		if err != nil {
			t.Skip(err)
		}
		file := os.NewFile(uintptr(fd), "fuzz-handover")
		defer file.Close()
		if _, err := file.Write(state); err != nil {
			t.Fatal(err)
		}
		st, err := read(fd)
		if err != nil {
			return
		}
		Check(st, cfg)
		FCGISockets(st)
		Events(st)
		again, err := write(st)
		if err != nil {
			t.Fatalf("a state read cannot be written: %v", err)
		}
		defer again.Close()
		back, err := read(int(again.Fd()))
		if err != nil {
			t.Fatalf("a state read and written is refused: %v", err)
		}
		a, _ := json.Marshal(st)
		b, _ := json.Marshal(back)
		if string(a) != string(b) {
			t.Fatalf("read back\n%s\nwant\n%s", b, a)
		}
	})
}
