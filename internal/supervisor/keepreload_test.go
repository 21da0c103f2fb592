package supervisor

import (
	"slices"
	"testing"

	"github.com/drover/drover/internal/config"
)

// TestServerChanges: only the sections the daemon applies at start count;
// the groups and [supervisorctl] do not.
func TestServerChanges(t *testing.T) {
	base := func() *config.Config {
		return &config.Config{
			Supervisord:     config.Supervisord{Logfile: "/var/log/d.log", Identifier: "supervisor"},
			UnixHTTPServers: []config.UnixHTTPServer{{Section: "unix_http_server", File: "/run/d.sock"}},
			RPCInterfaces:   []string{"supervisor"},
			Groups:          []*config.Group{{Name: "a"}},
		}
	}
	for _, tc := range []struct {
		name   string
		change func(*config.Config)
		want   []string
	}{
		{"nothing", func(*config.Config) {}, nil},
		{"groups", func(c *config.Config) { c.Groups = append(c.Groups, &config.Group{Name: "b"}) }, nil},
		{"supervisorctl", func(c *config.Config) { c.Supervisorctl.Prompt = "x" }, nil},
		{"logfile", func(c *config.Config) { c.Supervisord.Logfile = "/tmp/d.log" }, []string{"[supervisord]"}},
		{"option", func(c *config.Config) { c.Supervisord.ReloadKeepsUnchanged = true }, []string{"[supervisord]"}},
		{"socket", func(c *config.Config) { c.UnixHTTPServers[0].File = "/tmp/d.sock" }, []string{"[unix_http_server]"}},
		{"inet added", func(c *config.Config) {
			c.InetHTTPServers = []config.InetHTTPServer{{Section: "inet_http_server", Port: 9001}}
		}, []string{"[inet_http_server]"}},
		{"two", func(c *config.Config) {
			c.Supervisord.User = "nobody"
			c.RPCInterfaces = nil
		}, []string{"[supervisord]", "[rpcinterface:x]"}},
	} {
		next := base()
		tc.change(next)
		if got := serverChanges(base(), next); !slices.Equal(got, tc.want) {
			t.Errorf("%s: serverChanges = %q, want %q", tc.name, got, tc.want)
		}
	}
}
