package config

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// programMenu lists option values that random configs are assembled from;
// a leading "!" marks a value supervisord rejects (picked rarely).
var programMenu = map[string][]string{
	"command":                 {"/bin/cat", "/bin/echo %(process_num)02d %(group_name)s", "!/bin/sh -c 'x", "%(ENV_A)s run", "/bin/echo %%s", "!a %(nope)s"},
	"process_name":            {"%(program_name)s", "%(program_name)s_%(process_num)d", "w%(process_num)02d", "!bad name", "%(ENV_A)s-%(process_num)s"},
	"numprocs":                {"1", "2", "0", "!x"},
	"numprocs_start":          {"0", "3", "-1"},
	"priority":                {"1", "999", "-5", " 7 ", "!high"},
	"autostart":               {"true", "FALSE", "!maybe"},
	"autorestart":             {"true", "unexpected", "never"},
	"startsecs":               {"0", "-3", "!1.5"},
	"exitcodes":               {"0", "", "0,2", "!256"},
	"stopsignal":              {"TERM", "sigkill", "9", "!NOPE"},
	"stopasgroup":             {"true", "false"},
	"killasgroup":             {"true", "false"},
	"redirect_stderr":         {"true", "false"},
	"stdout_logfile":          {"AUTO", "NONE", "syslog", "%(here)s/o_%(process_num)d.log", "!/nonexistent/x.log", "%(here)s/p%%%%.log"},
	"stderr_logfile":          {"AUTO", "off", "%(here)s/e.log"},
	"stdout_logfile_maxbytes": {"0", "1KB", "!10M", "%(process_num)d"},
	"stdout_capture_maxbytes": {"1MB", "%(process_num)d"},
	"environment":             {"A=1", "A=\"x y\",B=%(process_num)d", "!A=1 B=2", "K=%(ENV_A)s", "!P=%%x"},
	"directory":               {"/tmp", "%(here)s/%(process_num)d"},
	"umask":                   {"022", "!8"},
	"user":                    {"root", "0", "!nosuchuserxyz"},
	"serverurl":               {"AUTO", "http://127.0.0.1:9001"},
	"stdout_events_enabled":   {"true", "!nah"},
}

// TestProgramsAgainstPython assembles random [program:x] and
// [eventlistener:x] sections and compares Load with supervisord's parser.
func TestProgramsAgainstPython(t *testing.T) {
	py := pythonIfAvailable()
	if py == "" {
		t.Skip("python3 with the supervisor module not available")
	}
	keys := make([]string, 0, len(programMenu))
	for k := range programMenu {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	r := rand.New(rand.NewPCG(7, 7))
	var dirs []string
	for i := range 200 {
		var b strings.Builder
		b.WriteString("[supervisord]\nlogfile=%(here)s/main.log\npidfile=%(here)s/sd.pid\nenvironment=A=\"global\"\n")
		for j := range 1 + r.IntN(3) {
			kind := "program"
			if r.IntN(5) == 0 {
				kind = "eventlistener"
			}
			fmt.Fprintf(&b, "[%s:p%d]\ncommand=/bin/cat\n", kind, j)
			if kind == "eventlistener" {
				b.WriteString("events=TICK_5\n")
			}
			for range 1 + r.IntN(6) {
				k := keys[r.IntN(len(keys))]
				v := programMenu[k][r.IntN(len(programMenu[k]))]
				for strings.HasPrefix(v, "!") && r.IntN(15) != 0 {
					v = programMenu[k][r.IntN(len(programMenu[k]))]
				}
				fmt.Fprintf(&b, "%s=%s\n", k, strings.TrimPrefix(v, "!"))
			}
		}
		if r.IntN(4) == 0 {
			b.WriteString("[group:g]\nprograms=p0\n")
		}
		dir := filepath.Join(t.TempDir(), fmt.Sprint(i))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "supervisord.conf"), []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, dir)
	}
	comparePython(t, py, dirs...)
}

// daemonMenu is programMenu for [supervisord] and the HTTP server sections.
var daemonMenu = map[string][]string{
	"supervisord.logfile":          {"%(here)s/main.log", "syslog", "rel.log", "!/nonexistent/x.log", "%(ENV_HOME)s/x.log"},
	"supervisord.logfile_maxbytes": {"1GB", "0", "!5X"},
	"supervisord.logfile_backups":  {"0", "3", "!x"},
	"supervisord.loglevel":         {"TRACE", "warn", "!warning"},
	"supervisord.umask":            {"0o22", "77", "!9"},
	"supervisord.minfds":           {"100", "!x"},
	"supervisord.childlogdir":      {"%(here)s", "!/nonexistent"},
	"supervisord.directory":        {"/tmp", "!/nonexistent"},
	"supervisord.identifier":       {"abc %(here)s", "!%(nope)s"},
	"supervisord.environment":      {"A=\"1\",B=%(here)s", "X=\"a%%%%b\"", "!X=\"a%%b\"", "H=%(host_node_name)s"},
	"supervisord.nodaemon":         {"true", "!sometimes"},
	"supervisord.user":             {"root", "!nosuchuserxyz"},
	"unix_http_server.file":        {"%(here)s/s.sock", "rel.sock"},
	"unix_http_server.chmod":       {"0777", "!abc"},
	"unix_http_server.chown":       {"root", "0:0", "!nosuchuserxyz"},
	"unix_http_server.username":    {"u\npassword=p", "!u"},
	"inet_http_server.port":        {"9001", "*:9001", "LOCALHOST:9002", "!abc", "!host:0", "!x:"},
	"inet_http_server.password":    {"{SHA}ab\nusername=u", "!p"},
}

func TestDaemonSectionsAgainstPython(t *testing.T) {
	py := pythonIfAvailable()
	if py == "" {
		t.Skip("python3 with the supervisor module not available")
	}
	keys := make([]string, 0, len(daemonMenu))
	for k := range daemonMenu {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	r := rand.New(rand.NewPCG(9, 9))
	var dirs []string
	for i := range 150 {
		sections := map[string][]string{"supervisord": {"pidfile=%(here)s/sd.pid"}}
		for range 1 + r.IntN(6) {
			k := keys[r.IntN(len(keys))]
			v := daemonMenu[k][r.IntN(len(daemonMenu[k]))]
			for strings.HasPrefix(v, "!") && r.IntN(10) != 0 {
				v = daemonMenu[k][r.IntN(len(daemonMenu[k]))]
			}
			sec, opt, _ := strings.Cut(k, ".")
			sections[sec] = append(sections[sec], opt+"="+strings.TrimPrefix(v, "!"))
		}
		required := map[string]string{"unix_http_server": "file=%(here)s/d.sock", "inet_http_server": "port=127.0.0.1:9001"}
		for sec, line := range required {
			if lines, ok := sections[sec]; ok && r.IntN(10) != 0 {
				sections[sec] = append([]string{line}, lines...) // a later key wins
			}
		}
		var b strings.Builder
		for _, sec := range []string{"supervisord", "unix_http_server", "inet_http_server"} {
			if lines, ok := sections[sec]; ok {
				b.WriteString("[" + sec + "]\n" + strings.Join(lines, "\n") + "\n")
			}
		}
		dir := filepath.Join(t.TempDir(), fmt.Sprint(i))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "supervisord.conf"), []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, dir)
	}
	comparePython(t, py, dirs...)
}

// TestIncludesAgainstPython builds random main + included files mixing
// [DEFAULT], %(here)s, merged sections and glob patterns.
func TestIncludesAgainstPython(t *testing.T) {
	py := pythonIfAvailable()
	if py == "" {
		t.Skip("python3 with the supervisor module not available")
	}
	snippets := []string{
		"[DEFAULT]\nstdout_logfile=%(here)s/%(program_name)s.log\n",
		"[DEFAULT]\nstartsecs=%(ENV_N)s\n",
		"[program:a]\ncommand=/bin/echo %(here)s\n",
		"[program:a]\npriority=%(ENV_N)s\n",
		"[program:b]\ncommand=/bin/cat\ndirectory=%(here)s\n",
		"[program:b]\nenvironment=D=\"%(here)s\"\n",
		"[group:g]\nprograms=a\n",
		"[supervisord]\nidentifier=%(here)s\n",
		"[eventlistener:l]\ncommand=/bin/cat\nevents=TICK_5\n",
		"[include]\nfiles=../*.conf\n",
		"garbage line\n",
	}
	patterns := []string{"conf.d/*.conf", "conf.d/?.conf", "*.ini", "conf.d/[ab].conf", "none/*.conf", "%(here)s/x.ini", "conf.d/*.conf conf.d/a.conf"}
	r := rand.New(rand.NewPCG(11, 11))
	pick := func() string {
		s := snippets[r.IntN(len(snippets))]
		for s == "garbage line\n" && r.IntN(10) != 0 {
			s = snippets[r.IntN(len(snippets))]
		}
		return s
	}
	var dirs []string
	for i := range 120 {
		dir := filepath.Join(t.TempDir(), fmt.Sprint(i))
		files := map[string]string{}
		main := "[supervisord]\nlogfile=%(here)s/main.log\npidfile=%(here)s/p.pid\nenvironment=N=\"5\"\n"
		for range r.IntN(3) {
			main += pick()
		}
		if r.IntN(6) != 0 {
			main += "[include]\nfiles=" + patterns[r.IntN(len(patterns))] + "\n"
		}
		files["supervisord.conf"] = main
		for _, name := range []string{"conf.d/a.conf", "conf.d/b.conf", "conf.d/cc.conf", "x.ini", "conf.d/.hidden.conf"} {
			if r.IntN(2) == 0 {
				var b strings.Builder
				for range 1 + r.IntN(3) {
					b.WriteString(pick())
				}
				files[name] = b.String()
			}
		}
		for name, content := range files {
			full := filepath.Join(dir, name)
			os.MkdirAll(filepath.Dir(full), 0o755)
			if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		dirs = append(dirs, dir)
	}
	comparePython(t, py, dirs...)
}
