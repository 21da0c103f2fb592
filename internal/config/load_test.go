package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
)

// writeConf writes files (name → content) into a new directory, changes
// into it and returns the path of supervisord.conf.
func writeConf(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		full := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(dir)
	return filepath.Join(dir, "supervisord.conf")
}

func TestDefaults(t *testing.T) {
	t.Setenv("TMPDIR", "")
	path := writeConf(t, map[string]string{"supervisord.conf": "[supervisord]\n"})
	cfg, err := Load(path, Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Dir(path)
	s := cfg.Supervisord
	want := Supervisord{
		Logfile: filepath.Join(dir, "supervisord.log"), LogfileMaxBytes: 50 << 20, LogfileBackups: 10,
		LogLevel: LevelInfo, Pidfile: filepath.Join(dir, "supervisord.pid"), Umask: 0o22,
		Minfds: 1024, Minprocs: 200, ChildLogDir: "/tmp", Identifier: "supervisor", UID: -1, GID: -1,
	}
	if s.Environment != nil {
		t.Errorf("Environment = %v, want none", s.Environment)
	}
	s.Environment = nil
	if !reflect.DeepEqual(s, want) {
		t.Errorf("defaults\n got: %+v\nwant: %+v", s, want)
	}
	if cfg.HasSupervisorctl || cfg.Supervisorctl != ctlDefaults() {
		t.Errorf("supervisorctl = %+v", cfg.Supervisorctl)
	}
	if cfg.File != path || len(cfg.Groups) != 0 {
		t.Errorf("File=%s Groups=%d", cfg.File, len(cfg.Groups))
	}
}

func TestOverrides(t *testing.T) {
	path := writeConf(t, map[string]string{"supervisord.conf": "[supervisord]\nloglevel=debug\numask=077\nidentifier=file\n"})
	dir := filepath.Dir(path)
	str := func(s string) *string { return &s }
	cfg, err := Load(path, Overrides{Nodaemon: true, Silent: true, LogLevel: str("warn"), Umask: str("002"),
		Logfile: str("x.log"), Identifier: str("cli"), Minfds: str("2048"), ChildLogDir: str(dir), User: str("root")})
	if err != nil {
		t.Fatal(err)
	}
	s := cfg.Supervisord
	if !s.Nodaemon || !s.Silent || s.LogLevel != LevelWarn || s.Umask != 2 || s.Identifier != "cli" ||
		s.Minfds != 2048 || s.ChildLogDir != dir || s.Logfile != filepath.Join(dir, "x.log") || s.UID != 0 {
		t.Errorf("overrides not applied: %+v", s)
	}
	for _, tc := range []struct {
		ov   Overrides
		want string
	}{
		{Overrides{Umask: str("9")}, "invalid value for -m '9': 9 can not be converted to an octal type"},
		{Overrides{LogLevel: str("loud")}, "invalid value for -e 'loud': bad logging level name 'loud'"},
		{Overrides{Minprocs: str("x")}, "invalid value for --minprocs 'x': invalid literal for int() with base 10: 'x'"},
		{Overrides{User: str("nosuchuserxyz")}, "Invalid user name nosuchuserxyz"},
	} {
		_, err := Load(path, tc.ov)
		var e *Error
		if !errors.As(err, &e) || e.Msg != tc.want {
			t.Errorf("Load with %+v: error %v, want %q", tc.ov, err, tc.want)
		}
	}
}

func TestErrorLocation(t *testing.T) {
	path := writeConf(t, map[string]string{
		"supervisord.conf": "[supervisord]\n[include]\nfiles=conf.d/*.conf\n",
		"conf.d/x.conf":    "[program:x]\ncommand=/bin/true\n\nautostart=maybe\n",
	})
	_, err := Load(path, Overrides{})
	inc := filepath.Join(filepath.Dir(path), "conf.d", "x.conf")
	want := "not a valid boolean value: 'maybe' in section 'program:x' (file: '" + inc + "', line 4, option 'autostart')"
	if err == nil || err.Error() != want {
		t.Fatalf("error\n got: %v\nwant: %s", err, want)
	}
	e := err.(*Error)
	if e.File != inc || e.Line != 4 || e.Section != "program:x" || e.Option != "autostart" {
		t.Errorf("location = %+v", e)
	}
}

func TestLoadErrors(t *testing.T) {
	for _, tc := range []struct{ conf, want string }{
		{"[program:x]\ncommand=/bin/true\n", ".ini file does not include supervisord section"},
		{"[supervisord]\n[include]\n", ".ini file has [include] section, but no files setting"},
		{"[supervisord]\n[unix_http_server]\n", "section [unix_http_server] has no file value"},
		{"[supervisord]\n[inet_http_server]\n", "section [inet_http_server] has no port value"},
		{"[supervisord]\n[unix_http_server]\nfile=/tmp/x.sock\nchmod=9\n", "Invalid chmod value 9"},
		{"[supervisord]\n[unix_http_server]\nfile=/tmp/x.sock\nchown=nosuchuserxyz\n", "Invalid sockchown value nosuchuserxyz"},
		{"[supervisord]\n[rpcinterface:supervisor]\n", "section [rpcinterface:supervisor] does not specify a supervisor.rpcinterface_factory"},
		{"[supervisord]\nuser=nosuchuserxyz\n", "Invalid user name nosuchuserxyz"},
		{"[supervisord]\nenvironment=A=\"x%%y\"\n", "Format string 'A=\"x%y\"' for 'environment' is badly formatted: unsupported format character 'y' (0x79) at index 5"},
		{"[supervisord]\n[program:x]\ncommand=/bin/true\nstartsecs=%(process_num)s\n", "Format string '%(process_num)s' for 'program:x.startsecs' contains names ('process_num') which cannot be expanded. Available names: "},
		{"[supervisord]\n[group:g]\nprograms=a,nope\n[program:a]\ncommand=/bin/true\n", "[program:a] names unknown program or fcgi-program nope"},
		{"[supervisord]\n[group:g]\nprograms=a\n[program:a]\ncommand=/bin/true\n[fcgi-program:a]\ncommand=/bin/true\nsocket=tcp://h:1\n", "[group:g] name a is ambiguous (exists as program and fcgi-program)"},
		{"[supervisord]\n[fcgi-program:f]\ncommand=/bin/true\n", "[fcgi-program:f] section requires a \"socket\" line"},
		{"[supervisord]\n[fcgi-program:f]\ncommand=/bin/true\nsocket=unix://rel.sock\n", "('Unix socket path %s is not an absolute path', 'rel.sock') in [fcgi-program:f] socket"},
		{"[supervisord]\n[fcgi-program:f]\ncommand=/bin/true\nsocket=tcp://h:1\nsocket_mode=0600\n", "socket_owner and socket_mode params should only be used with a Unix domain socket in [fcgi-program:f] socket"},
		{"[supervisord]\n[fcgi-program:f]\ncommand=/bin/true\nsocket=tcp://h:1\nsocket_backlog=0\n", "Invalid socket_backlog value 0"},
		{"[supervisord]\n[eventlistener:l]\ncommand=/bin/cat\nevents=TICK_5\nresult_handler=my.mod:fn\n", "my.mod:fn cannot be resolved within [eventlistener:l]"},
	} {
		path := writeConf(t, map[string]string{"supervisord.conf": tc.conf})
		_, err := Load(path, Overrides{})
		var e *Error
		if !errors.As(err, &e) || !strings.HasPrefix(e.Msg, tc.want) {
			t.Errorf("%q:\n got: %v\nwant: %s", tc.conf, err, tc.want)
		}
	}
	if _, err := Load("/nonexistent/x.conf", Overrides{}); err == nil || err.Error() != "could not find config file /nonexistent/x.conf" {
		t.Errorf("missing file: %v", err)
	}
}

func TestIncludeMessages(t *testing.T) {
	path := writeConf(t, map[string]string{
		"supervisord.conf": "[supervisord]\n[include]\nfiles=b/*.conf none/*.conf /abs/none.conf\n",
		"b/2.conf":         "[program:two]\ncommand=/bin/true\nstdout_logfile_maxbytes=0\n",
		"b/1.conf":         "[program:one]\ncommand=%(here)s/run\n",
		"b/.hidden.conf":   "[program:hidden]\ncommand=/bin/true\n",
	})
	dir := filepath.Dir(path)
	cfg, err := Load(path, Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range cfg.Messages {
		got = append(got, m.Level+" "+m.Text)
	}
	want := []string{
		"WARN No file matches via include \"" + dir + "/none/*.conf\"",
		"WARN No file matches via include \"/abs/none.conf\"",
		"WARN For [program:two], AUTO logging used for stdout_logfile without rollover, set maxbytes > 0 to avoid filling up filesystem unintentionally",
		"INFO Included extra file \"" + dir + "/b/1.conf\" during parsing",
		"INFO Included extra file \"" + dir + "/b/2.conf\" during parsing",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("messages\n got: %q\nwant: %q", got, want)
	}
	if len(cfg.Groups) != 2 || cfg.Groups[0].Processes[0].Command != dir+"/b/run" {
		t.Errorf("groups: %+v", cfg.Groups[0].Processes[0])
	}
}

func TestProcessUser(t *testing.T) {
	path := writeConf(t, map[string]string{"supervisord.conf": "[supervisord]\n[program:x]\ncommand=/bin/true\nuser=root\n"})
	cfg, err := Load(path, Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	p := cfg.Groups[0].Processes[0]
	if p.User != "root" || p.UID != 0 || p.GID != 0 || len(p.Groups) == 0 || p.Groups[0] != 0 {
		t.Errorf("user: %q uid=%d gid=%d groups=%v", p.User, p.UID, p.GID, p.Groups)
	}
}

func TestServers(t *testing.T) {
	path := writeConf(t, map[string]string{"supervisord.conf": "[supervisord]\n" +
		"[unix_http_server]\nfile=%(here)s/../x/./s.sock\nchmod=0777\nchown=root:root\nusername=u\npassword={SHA}abc\n" +
		"[inet_http_server]\nport=*:9001\n[inet_http_server:two]\nport=LOCALHOST:9002\n" +
		"[supervisorctl]\nserverurl=unix://%(here)s/s.sock\nhistory_file=~/.h\n[rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n"})
	dir := filepath.Dir(path)
	cfg, err := Load(path, Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	u := cfg.UnixHTTPServers[0]
	if u.File != filepath.Join(filepath.Dir(dir), "x", "s.sock") || u.Chmod != 0o777 || u.ChownUID != 0 || u.ChownGID != 0 ||
		u.Username != "u" || u.Password != "{SHA}abc" || u.Section != "unix_http_server" {
		t.Errorf("unix server: %+v", u)
	}
	if len(cfg.InetHTTPServers) != 2 || cfg.InetHTTPServers[0].Host != "" || cfg.InetHTTPServers[0].Port != 9001 ||
		cfg.InetHTTPServers[1].Host != "localhost" || cfg.InetHTTPServers[1].Section != "inet_http_server:two" {
		t.Errorf("inet servers: %+v", cfg.InetHTTPServers)
	}
	home, _ := os.UserHomeDir()
	if !cfg.HasSupervisorctl || cfg.Supervisorctl.ServerURL != "unix://"+dir+"/s.sock" || cfg.Supervisorctl.HistoryFile != home+"/.h" {
		t.Errorf("supervisorctl: %+v", cfg.Supervisorctl)
	}
	if len(cfg.RPCInterfaces) != 1 || cfg.RPCInterfaces[0] != "supervisor" {
		t.Errorf("rpcinterfaces: %v", cfg.RPCInterfaces)
	}
}

func TestLoadCtl(t *testing.T) {
	path := writeConf(t, map[string]string{"supervisord.conf": "[supervisorctl]\nserverurl=unix://%(here)s/a/../s.sock\n" +
		"username=u\npassword=p\nprompt=mine\n[include]\nfiles=nothing\n"})
	dir := filepath.Dir(path)
	c, found, err := LoadCtl(path)
	if err != nil || !found {
		t.Fatal(found, err)
	}
	want := Supervisorctl{ServerURL: "unix://" + dir + "/s.sock", Username: "u", Password: "p", Prompt: "mine"}
	if c != want {
		t.Errorf("got %+v, want %+v", c, want)
	}
	path = writeConf(t, map[string]string{"supervisord.conf": "[supervisord]\n"})
	c, found, err = LoadCtl(path)
	var e *Error
	if found || !errors.As(err, &e) || e.Msg != ".ini file does not include supervisorctl section" || e.File != path || c != ctlDefaults() {
		t.Errorf("no section: %+v %v %v", c, found, err)
	}
}

func TestFindConfigFile(t *testing.T) {
	writeConf(t, nil)
	want := []string{"/usr/etc/supervisord.conf", "/usr/supervisord.conf", "supervisord.conf", "etc/supervisord.conf",
		"/etc/supervisord.conf", "/etc/supervisor/supervisord.conf"}
	if got := SearchPaths("/usr/bin/supervisord"); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("SearchPaths = %q", got)
	}
	if got := SearchPaths("supervisord"); got[0] != "etc/supervisord.conf" || got[1] != "supervisord.conf" {
		t.Errorf("SearchPaths(relative) = %q", got)
	}
	if err := os.MkdirAll("etc", 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile("etc/supervisord.conf", nil, 0o644)
	os.WriteFile("supervisord.conf", nil, 0o644)
	if got, err := FindConfigFile("/nonexistent/bin/x"); err != nil || got != "supervisord.conf" {
		t.Errorf("FindConfigFile = %q, %v", got, err)
	}
	_, err := firstExisting([]string{"/nonexistent/a.conf", "b.conf"})
	want2 := "No config file found at default paths (/nonexistent/a.conf, b.conf); use the -c option to specify a config file at a different path"
	if err == nil || err.Error() != want2 {
		t.Errorf("not found: %v", err)
	}
}

// TestOverridesAgainstPython runs supervisord's option parser with the
// same command-line values and compares the outcome.
func TestOverridesAgainstPython(t *testing.T) {
	py := pythonIfAvailable()
	if py == "" {
		t.Skip("python3 with the supervisor module not available")
	}
	str := func(s string) *string { return &s }
	path := writeConf(t, map[string]string{"supervisord.conf": "[supervisord]\nlogfile=%(here)s/f.log\nloglevel=debug\n" +
		"umask=077\nidentifier=file\nminfds=10\nnodaemon=false\n[program:x]\ncommand=/bin/cat\n"})
	dir := filepath.Dir(path)
	for _, tc := range []struct {
		args []string
		ov   Overrides
	}{
		{[]string{"-n", "-s", "-k", "-t"}, Overrides{Nodaemon: true, Silent: true, Nocleanup: true, StripANSI: true}},
		{[]string{"-e", "WARN", "-m", "002", "-i", "cli", "-a", "2048", "--minprocs", "7"},
			Overrides{LogLevel: str("WARN"), Umask: str("002"), Identifier: str("cli"), Minfds: str("2048"), Minprocs: str("7")}},
		{[]string{"-l", "rel.log", "-j", "p.pid", "-q", dir, "-d", dir, "-y", "1KB", "-z", "3", "-u", "root"},
			Overrides{Logfile: str("rel.log"), Pidfile: str("p.pid"), ChildLogDir: str(dir), Directory: str(dir),
				LogfileMaxBytes: str("1KB"), LogfileBackups: str("3"), User: str("root")}},
		{[]string{"-m", "9"}, Overrides{Umask: str("9")}},
		{[]string{"-y", "5X"}, Overrides{LogfileMaxBytes: str("5X")}},
		{[]string{"-q", "/nonexistent"}, Overrides{ChildLogDir: str("/nonexistent")}},
		{[]string{"-l", "/nonexistent/x.log"}, Overrides{Logfile: str("/nonexistent/x.log")}},
		{[]string{"-u", "nosuchuserxyz"}, Overrides{User: str("nosuchuserxyz")}},
		{[]string{"--umask=9"}, Overrides{Umask: str("9"), Spelled: map[string]string{"-m": "--umask"}}},
	} {
		configs, errs := pythonDump(t, py, []any{append([]string{path}, tc.args...)})
		cfg, err := Load(path, tc.ov)
		if errs[0] != "" {
			if err == nil || err.(*Error).SupervisorText() != errs[0] {
				t.Errorf("%v: error %v, want %q", tc.args, err, errs[0])
			}
			continue
		}
		if err != nil {
			t.Errorf("%v: %v", tc.args, err)
			continue
		}
		if got, want := canonicalJSON(t, goDump(cfg)), canonicalJSON(t, configs[0]); got != want {
			t.Errorf("%v:\n--- go\n%s\n--- python\n%s", tc.args, got, want)
		}
	}
}

// Configuration files must be regular and at most 16 MiB: /dev/zero or a
// FIFO as an include was read until memory ran out (or forever). A
// directory matched by an include glob is still skipped, as Python does.
func TestConfigFileLimits(t *testing.T) {
	path := writeConf(t, map[string]string{
		"supervisord.conf": "[supervisord]\n[include]\nfiles=%(ENV_INCLUDE)s\n",
		"dir.conf/x":       "",
		"ok.conf":          "[program:ok]\ncommand=/bin/true\n",
	})
	dir := filepath.Dir(path)
	huge := filepath.Join(dir, "huge.conf")
	if err := os.WriteFile(huge, []byte(strings.Repeat(";\n", maxConfigBytes/2+1)), 0o644); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo.conf")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ include, want string }{
		{"/dev/zero", "could not read included file: not a regular file (file: '/dev/zero')"},
		{fifo, "could not read included file: not a regular file (file: '" + fifo + "')"},
		{huge, "could not read included file: larger than 16 MiB (file: '" + huge + "')"},
		{"dir.conf ok.conf", ""},
	} {
		t.Setenv("INCLUDE", tc.include)
		cfg, err := Load(path, Overrides{})
		switch {
		case tc.want == "" && (err != nil || len(cfg.Groups) != 1):
			t.Errorf("include %s: %v, want the one program of ok.conf", tc.include, err)
		case tc.want != "" && (err == nil || err.Error() != tc.want):
			t.Errorf("include %s:\n got: %v\nwant: %s", tc.include, err, tc.want)
		}
	}
	for _, main := range []string{"/dev/zero", fifo, huge} {
		want := "could not read config file " + main + ": "
		if _, err := Load(main, Overrides{}); err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("main file %s: %v, want %s...", main, err, want)
		}
		if _, _, err := LoadCtl(main); err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("supervisorctl file %s: %v, want %s...", main, err, want)
		}
	}
}
