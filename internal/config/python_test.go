package config

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
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

// pythonDump runs testdata/dump.py on paths; each result is the parsed
// config as JSON, or the text after "Error: " when supervisord rejects it.
func pythonDump(t *testing.T, py string, paths []any) (configs, errs []string) {
	t.Helper()
	req, _ := json.Marshal(paths)
	cmd := exec.Command(py, dumpScript)
	cmd.Dir = "/"
	cmd.Stdin = bytes.NewReader(req)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("dump.py failed: %v\n%s", err, stderr.String())
	}
	var res []struct {
		Config json.RawMessage
		Error  string
	}
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		configs = append(configs, string(r.Config))
		errs = append(errs, r.Error)
	}
	return configs, errs
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

// comparePython loads each dir/supervisord.conf with both parsers (working
// directory = dir) and fails on any difference in values, messages or error text.
func comparePython(t *testing.T, py string, dirs ...string) {
	t.Helper()
	var paths []string
	var entries []any
	for _, d := range dirs {
		paths = append(paths, filepath.Join(d, "supervisord.conf"))
		entries = append(entries, paths[len(paths)-1])
	}
	configs, errs := pythonDump(t, py, entries)
	rejected := 0
	for _, e := range errs {
		if e != "" {
			rejected++
		}
	}
	t.Logf("compared %d configs with Python (%d rejected by supervisord)", len(paths), rejected)
	wd, _ := os.Getwd()
	defer os.Chdir(wd)
	for i, path := range paths {
		os.Chdir(dirs[i])
		cfg, err := Load(path, Overrides{})
		conf, _ := os.ReadFile(path)
		if errs[i] != "" {
			if err == nil {
				t.Errorf("%s\npython error %q, Go loaded fine", conf, errs[i])
				continue
			}
			want := errs[i]
			if got := err.(*Error).SupervisorText(); got != want {
				t.Errorf("%s\nerror text\n got: %s\nwant: %s", conf, got, want)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s\nGo error %v, python loaded fine", conf, err)
			continue
		}
		got, want := canonicalJSON(t, goDump(cfg)), canonicalJSON(t, configs[i])
		if got != want {
			t.Errorf("%s\nparsed config differs\n--- go\n%s\n--- python\n%s", conf, got, want)
		}
	}
}
