package daemon

import (
	"fmt"
	"strings"
	"testing"
)

// The error texts below were produced by Debian's supervisord 4.2.5.
func TestParseFlagsErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--bogus"}, "option --bogus not recognized"},
		{[]string{"-x"}, "option -x not recognized"},
		{[]string{"extra"}, "positional arguments are not supported: ['extra']"},
		{[]string{"extra", "-n"}, "positional arguments are not supported: ['extra', '-n']"},
		{[]string{"-c"}, "option -c requires argument"},
		{[]string{"--configuration"}, "option --configuration requires argument"},
		{[]string{"--c=/x.conf"}, "option --c not a unique prefix"},
		{[]string{"--nodaemon=1"}, "option --nodaemon must not have an argument"},
		{[]string{"--version=3"}, "option --version must not have an argument"},
		{[]string{"-i"}, "option -i requires argument"},
		{[]string{"-c", "a", "-c", "b"}, "conflicting command line option '-c'"},
		{[]string{"-n", "--", "-k"}, "positional arguments are not supported: ['-k']"},
		{[]string{"-"}, "positional arguments are not supported: ['-']"},
		{[]string{"-nx"}, "option -x not recognized"},
		{[]string{"it's"}, `positional arguments are not supported: ["it's"]`},
		{[]string{"-n", "--nodaemon"}, "conflicting command line option '--nodaemon'"},
	}
	for _, tt := range tests {
		_, _, err := parseFlags(tt.args)
		if err == nil || err.Error() != tt.want {
			t.Errorf("parseFlags(%q) error = %v, want %q", tt.args, err, tt.want)
		}
	}
}

func TestParseFlagsActions(t *testing.T) {
	tests := []struct {
		args []string
		want cliAction
	}{
		{[]string{"-h"}, actionHelp},
		{[]string{"-?"}, actionHelp},
		{[]string{"--help"}, actionHelp},
		{[]string{"--he"}, actionHelp},
		{[]string{"-v"}, actionVersion},
		{[]string{"--version"}, actionVersion},
		{[]string{"-h", "-a", "abc"}, actionHelp}, // handled in order: help exits first
		{[]string{"-n", "-v"}, actionVersion},
		{[]string{"-n"}, actionRun},
	}
	for _, tt := range tests {
		_, got, err := parseFlags(tt.args)
		if err != nil || got != tt.want {
			t.Errorf("parseFlags(%q) = %v, %v; want %v", tt.args, got, err, tt.want)
		}
	}
}

func TestParseFlagsValues(t *testing.T) {
	o, _, err := parseFlags([]string{
		"-cx.conf", "-nkts", "--user", "nobody", "-m", "027", "--directory=/srv",
		"-l", "main.log", "-y", "1KB", "-z", "3", "-e", "DEBUG", "--pidfile", "run.pid",
		"-i", "ident", "-q", "/tmp", "-a", "2048", "--minprocs", "300", "--profile_options=calls",
	})
	if err != nil {
		t.Fatal(err)
	}
	check := func(name string, got any, want string) {
		t.Helper()
		if s, ok := got.(*string); ok {
			if s == nil {
				t.Errorf("%s not set, want %q", name, want)
				return
			}
			got = *s
		}
		if fmt.Sprint(got) != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	check("ConfigFile", o.ConfigFile, "x.conf")
	check("Nodaemon", o.Nodaemon, "true")
	check("Nocleanup", o.Nocleanup, "true")
	check("StripANSI", o.StripANSI, "true")
	check("Silent", o.Silent, "true")
	check("User", o.User, "nobody")
	check("Umask", o.Umask, "027")
	check("Directory", o.Directory, "/srv")
	check("Logfile", o.Logfile, "main.log")
	check("LogfileMaxBytes", o.LogfileMaxBytes, "1KB")
	check("LogfileBackups", o.LogfileBackups, "3")
	check("LogLevel", o.LogLevel, "DEBUG")
	check("Pidfile", o.Pidfile, "run.pid")
	check("Identifier", o.Identifier, "ident")
	check("ChildLogDir", o.ChildLogDir, "/tmp")
	check("Minfds", o.Minfds, "2048")
	check("Minprocs", o.Minprocs, "300")

	o, _, err = parseFlags(nil)
	if err != nil || o.User != nil || o.Umask != nil || o.Nodaemon {
		t.Errorf("parseFlags(nil) = %+v, %v; want nothing set", o, err)
	}
}

func TestUsageHasProgname(t *testing.T) {
	u := usage("/usr/bin/supervisord")
	if want := "supervisord -- run a set of applications as daemons.\n\nUsage: /usr/bin/supervisord [options]\n"; u[:len(want)] != want {
		t.Errorf("usage starts %q, want %q", u[:len(want)], want)
	}
}

// A bad option value is reported before the config file is searched for,
// so root gets no search warning with it (as from Supervisor).
func TestBadOptionValueBeforeSearch(t *testing.T) {
	var out, errOut strings.Builder
	code := Main([]string{"supervisord", "-e", "foo"}, &out, &errOut)
	want := "Error: invalid value for -e 'foo': bad logging level name 'foo'\nFor help, use supervisord -h\n"
	if code != 2 || errOut.String() != want {
		t.Errorf("exit %d, stderr %q; want 2 and %q", code, errOut.String(), want)
	}
}
