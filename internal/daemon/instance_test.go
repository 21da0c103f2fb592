package daemon

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/logs"
)

func TestServerURL(t *testing.T) {
	tests := []struct {
		name string
		cfg  config.Config
		want string
	}{
		{"none", config.Config{}, ""},
		{"unix first", config.Config{
			UnixHTTPServers: []config.UnixHTTPServer{{File: "/run/a.sock"}, {File: "/run/b.sock"}},
			InetHTTPServers: []config.InetHTTPServer{{Host: "127.0.0.1", Port: 9001}},
		}, "unix:///run/a.sock"},
		{"inet all interfaces", config.Config{
			InetHTTPServers: []config.InetHTTPServer{{Port: 9001}},
		}, "http://localhost:9001"},
		{"last inet wins", config.Config{
			InetHTTPServers: []config.InetHTTPServer{{Host: "127.0.0.1", Port: 9001}, {Host: "10.0.0.1", Port: 9002}},
		}, "http://10.0.0.1:9002"},
	}
	for _, tt := range tests {
		if got := serverURL(&tt.cfg); got != tt.want {
			t.Errorf("%s: serverURL = %q, want %q", tt.name, got, tt.want)
		}
	}
}

// Parse-time notes reach the main log grouped as Supervisor flushes them:
// criticals, then warnings, then infos, each in the order they arose.
func TestStartupNotesOrder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "main.log")
	ml, err := logs.OpenMain(logs.MainConfig{Path: path, Level: config.LevelInfo})
	if err != nil {
		t.Fatal(err)
	}
	var n startupNotes
	n.addConfigMessages([]config.Message{
		{Level: "INFO", Text: "Included extra file"},
		{Level: "WARN", Text: "No file matches"},
		{Level: "CRIT", Text: "config crit"},
	})
	n.crits = append(n.crits, rootCritical)
	n.infos = append(n.infos, "Set uid to user 0 succeeded")
	n.flush(ml)
	ml.Close()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		f := strings.SplitN(line, " ", 4) // date, time, level, message
		got = append(got, f[2]+" "+f[3])
	}
	want := []string{
		"CRIT config crit",
		"CRIT " + rootCritical,
		"WARN No file matches",
		"INFO Included extra file",
		"INFO Set uid to user 0 succeeded",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("main log:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
