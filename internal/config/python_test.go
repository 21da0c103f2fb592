package config

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
)

// dumpScript is resolved before any test changes directory.
var dumpScript, _ = filepath.Abs("testdata/dump.py")

var pythonPath = sync.OnceValue(func() string {
	for _, py := range []string{"/usr/bin/python3", "python3"} {
		cmd := exec.Command(py, "-c", "import supervisor.options")
		cmd.Dir = os.TempDir()
		if cmd.Run() == nil {
			return py
		}
	}
	return ""
})

// pythonIfAvailable returns a python3 that can import supervisor.options, or "".
func pythonIfAvailable() string { return pythonPath() }

// pythonDump runs testdata/dump.py on path and returns its JSON, or the
// text after "Error: " when supervisord rejects the file.
func pythonDump(t *testing.T, py, path string) (string, string) {
	t.Helper()
	cmd := exec.Command(py, dumpScript, path)
	cmd.Dir = filepath.Dir(path) // relative defaults resolve against the config dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		first, _, _ := strings.Cut(stderr.String(), "\nFor help")
		msg, ok := strings.CutPrefix(first, "Error: ")
		if !ok {
			t.Fatalf("dump.py failed: %v\n%s", err, stderr.String())
		}
		return "", msg
	}
	return stdout.String(), ""
}

func autoName(l ChildLog) any {
	switch l.Kind {
	case LogAuto:
		return "AUTO"
	case LogNone:
		return nil
	}
	return l.Path
}

func envDict(env []EnvVar) map[string]string {
	m := map[string]string{}
	for _, e := range env {
		m[e.Key] = e.Value
	}
	return m
}

// goDump renders cfg in dump.py's shape.
func goDump(cfg *Config) string {
	s := cfg.Supervisord
	restart := map[AutoRestart]string{RestartAlways: "always", RestartNever: "never", RestartUnexpected: "unexpected"}
	out := map[string]any{
		"supervisord": map[string]any{
			"logfile": s.Logfile, "logfile_maxbytes": s.LogfileMaxBytes, "logfile_backups": s.LogfileBackups,
			"loglevel": int(s.LogLevel), "pidfile": s.Pidfile, "umask": s.Umask, "nodaemon": s.Nodaemon,
			"silent": s.Silent, "minfds": s.Minfds, "minprocs": s.Minprocs, "nocleanup": s.Nocleanup,
			"childlogdir": s.ChildLogDir, "user": s.User, "directory": s.Directory,
			"strip_ansi": s.StripANSI, "identifier": s.Identifier, "environment": envDict(s.Environment),
		},
	}
	groups := []any{}
	for _, g := range cfg.Groups {
		gd := map[string]any{"name": g.Name, "priority": g.Priority}
		if g.Kind == KindEventListener {
			gd["buffer_size"] = g.BufferSize
			ev := append([]string(nil), g.Events...)
			slices.Sort(ev)
			gd["events"] = ev
		}
		if g.Kind == KindFCGI {
			gd["socket"] = g.Socket
		}
		procs := []any{}
		for _, p := range g.Processes {
			umask := p.Umask
			exit := p.ExitCodes
			if exit == nil {
				exit = []int{}
			}
			procs = append(procs, map[string]any{
				"name": p.Name, "command": p.Command, "directory": p.Directory, "umask": umask,
				"priority": p.Priority, "autostart": p.Autostart, "autorestart": restart[p.AutoRestart],
				"startsecs": int(p.StartSecs.Seconds()), "startretries": p.StartRetries, "exitcodes": exit,
				"stopsignal": int(p.StopSignal), "stopwaitsecs": int(p.StopWait.Seconds()),
				"stopasgroup": p.StopAsGroup, "killasgroup": p.KillAsGroup, "uid": p.UID,
				"redirect_stderr":         p.RedirectStderr,
				"stdout_logfile":          autoName(p.Stdout),
				"stdout_logfile_maxbytes": p.Stdout.MaxBytes, "stdout_logfile_backups": p.Stdout.Backups,
				"stdout_capture_maxbytes": p.Stdout.CaptureMaxBytes, "stdout_events_enabled": p.Stdout.EventsEnabled,
				"stdout_syslog":           p.Stdout.Syslog,
				"stderr_logfile":          autoName(p.Stderr),
				"stderr_logfile_maxbytes": p.Stderr.MaxBytes, "stderr_logfile_backups": p.Stderr.Backups,
				"stderr_capture_maxbytes": p.Stderr.CaptureMaxBytes, "stderr_events_enabled": p.Stderr.EventsEnabled,
				"stderr_syslog": p.Stderr.Syslog,
				"environment":   envDict(p.Environment), "serverurl": p.ServerURL,
			})
		}
		gd["processes"] = procs
		groups = append(groups, gd)
	}
	out["groups"] = groups
	servers := []any{}
	for _, i := range cfg.InetHTTPServers {
		servers = append(servers, map[string]any{"section": i.Section, "username": i.Username,
			"password": i.Password, "host": i.Host, "port": i.Port})
	}
	for _, u := range cfg.UnixHTTPServers {
		servers = append(servers, map[string]any{"section": u.Section, "username": u.Username,
			"password": u.Password, "file": u.File, "chmod": u.Chmod, "chown": []int{u.ChownUID, u.ChownGID}})
	}
	out["servers"] = servers
	warnings, infos := []string{}, []string{}
	for _, m := range cfg.Messages {
		if m.Level == "WARN" {
			warnings = append(warnings, m.Text)
		} else {
			infos = append(infos, m.Text)
		}
	}
	out["warnings"], out["infos"] = warnings, infos
	b, _ := json.Marshal(out)
	return string(b)
}

func canonicalJSON(t *testing.T, s string) string {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("bad json: %v\n%s", err, s)
	}
	b, _ := json.MarshalIndent(v, "", " ")
	return string(b)
}

var pySectionSuffix = regexp.MustCompile(` in section '[^']*' \(file: '[^']*'\)$`)

// comparePython loads dir/supervisord.conf with both parsers and fails on
// any difference in values, messages or error text.
func comparePython(t *testing.T, py, dir string) {
	t.Helper()
	path := filepath.Join(dir, "supervisord.conf")
	pyOut, pyErr := pythonDump(t, py, path)
	t.Chdir(dir)
	cfg, err := Load(path, Overrides{})
	if pyErr != "" {
		if err == nil {
			t.Fatalf("python error %q, Go loaded fine", pyErr)
		}
		want := pySectionSuffix.ReplaceAllString(pyErr, "")
		if got := err.(*Error).Msg; got != want {
			t.Fatalf("error text\n got: %s\nwant: %s", got, want)
		}
		return
	}
	if err != nil {
		t.Fatalf("Go error %v, python loaded fine", err)
	}
	got, want := canonicalJSON(t, goDump(cfg)), canonicalJSON(t, pyOut)
	if got != want {
		t.Fatalf("parsed config differs\n--- go\n%s\n--- python\n%s", got, want)
	}
}
