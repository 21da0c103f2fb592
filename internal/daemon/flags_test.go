package daemon

import (
	"path/filepath"
	"testing"

	"github.com/drover/drover/internal/config"
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
		{[]string{"-a", "abc"}, "invalid value for -a 'abc': invalid literal for int() with base 10: 'abc'"},
		{[]string{"-m", "999"}, "invalid value for -m '999': 999 can not be converted to an octal type"},
		{[]string{"-e", "bogus"}, "invalid value for -e 'bogus': bad logging level name 'bogus'"},
		{[]string{"-y", "1XB"}, "invalid value for -y '1XB': invalid literal for int() with base 10: '1xb'"},
		{[]string{"-z", "x"}, "invalid value for -z 'x': invalid literal for int() with base 10: 'x'"},
		{[]string{"-q", "/nonexist"}, "invalid value for -q '/nonexist': /nonexist is not an existing directory"},
		{[]string{"-d", "/nonexist"}, "invalid value for -d '/nonexist': /nonexist is not an existing directory"},
		{[]string{"-l", "/nonexist/x.log"}, "invalid value for -l '/nonexist/x.log': The directory named as part of the path /nonexist/x.log does not exist"},
		{[]string{"-j", "/nonexist/x.pid"}, "invalid value for -j '/nonexist/x.pid': The directory named as part of the path /nonexist/x.pid does not exist"},
		{[]string{"-c"}, "option -c requires argument"},
		{[]string{"--configuration"}, "option --configuration requires argument"},
		{[]string{"--c=/x.conf"}, "option --c not a unique prefix"},
		{[]string{"--minp=x"}, "invalid value for --minprocs 'x': invalid literal for int() with base 10: 'x'"},
		{[]string{"--nodaemon=1"}, "option --nodaemon must not have an argument"},
		{[]string{"--version=3"}, "option --version must not have an argument"},
		{[]string{"-i"}, "option -i requires argument"},
		{[]string{"-c", "a", "-c", "b"}, "conflicting command line option '-c'"},
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
	if _, _, err := parseFlags([]string{"-a", "abc", "-h"}); err == nil {
		t.Errorf("parseFlags(-a abc -h): want the -a error first")
	}
}

func TestParseFlagsValues(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	o, _, err := parseFlags([]string{
		"-cx.conf", "-nkts", "--user", "nobody", "-m", "027", "--directory=" + dir,
		"-l", "main.log", "-y", "1KB", "-z", "3", "-e", "DEBUG", "--pidfile", "run.pid",
		"-i", "ident", "-q", dir, "-a", "2048", "--minprocs", "300", "--profile_options=calls",
	})
	if err != nil {
		t.Fatal(err)
	}
	check := func(name string, got, want any) {
		t.Helper()
		if got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	check("ConfigFile", o.ConfigFile, "x.conf")
	check("Nodaemon", o.Nodaemon, true)
	check("Nocleanup", o.Nocleanup, true)
	check("StripANSI", o.StripANSI, true)
	check("Silent", o.Silent, true)
	check("User", *o.User, "nobody")
	check("Umask", *o.Umask, 0o27)
	check("Directory", *o.Directory, dir)
	check("Logfile", *o.Logfile, filepath.Join(dir, "main.log"))
	check("LogfileMaxBytes", *o.LogfileMaxBytes, int64(1024))
	check("LogfileBackups", *o.LogfileBackups, 3)
	check("LogLevel", *o.LogLevel, config.LevelDebug)
	check("Pidfile", *o.Pidfile, filepath.Join(dir, "run.pid"))
	check("Identifier", *o.Identifier, "ident")
	check("ChildLogDir", *o.ChildLogDir, dir)
	check("Minfds", *o.Minfds, 2048)
	check("Minprocs", *o.Minprocs, 300)

	o, _, err = parseFlags(nil)
	if err != nil || o.User != nil || o.Umask != nil || o.Nodaemon {
		t.Errorf("parseFlags(nil) = %+v, %v; want nothing set", o, err)
	}
}

func TestParsePyInt(t *testing.T) {
	tests := []struct {
		in   string
		want int
		ok   bool
	}{
		{"12", 12, true}, {" 12 ", 12, true}, {"+3", 3, true}, {"-3", -3, true},
		{"1_000", 1000, true}, {"_1", 0, false}, {"1__0", 0, false}, {"", 0, false},
		{"1.5", 0, false}, {"0x10", 0, false},
	}
	for _, tt := range tests {
		got, err := parsePyInt(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parsePyInt(%q) = %d, %v; want %d, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestUsageHasProgname(t *testing.T) {
	u := usage("/usr/bin/supervisord")
	if want := "supervisord -- run a set of applications as daemons.\n\nUsage: /usr/bin/supervisord [options]\n"; u[:len(want)] != want {
		t.Errorf("usage starts %q, want %q", u[:len(want)], want)
	}
}
