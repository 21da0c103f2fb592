package rpc

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/httpmux"
	"github.com/drover/drover/internal/logs"
	"github.com/drover/drover/internal/process"
	"github.com/drover/drover/internal/supervisor"
	"github.com/drover/drover/internal/xmlrpc"
)

func newTestHandler(b *fakeBackend) *handler {
	return newHandler(b, nil, Options{Identification: "supervisor", PID: 42})
}

// Signatures of Supervisor 4.2.5 (system.methodSignature of every method).
var wantSignatures = map[string][]string{
	"supervisor.addProcessGroup":      {"boolean", "string"},
	"supervisor.clearAllProcessLogs":  {"array"},
	"supervisor.clearLog":             {"boolean"},
	"supervisor.clearProcessLog":      {"boolean", "string"},
	"supervisor.clearProcessLogs":     {"boolean", "string"},
	"supervisor.getAPIVersion":        {"string"},
	"supervisor.getAllConfigInfo":     {"array"},
	"supervisor.getAllProcessInfo":    {"array"},
	"supervisor.getIdentification":    {"string"},
	"supervisor.getPID":               {"int"},
	"supervisor.getProcessInfo":       {"struct", "string"},
	"supervisor.getState":             {"struct"},
	"supervisor.getSupervisorVersion": {"string"},
	"supervisor.getVersion":           {"string"},
	"supervisor.readLog":              {"string", "int", "int"},
	"supervisor.readMainLog":          {"string", "int", "int"},
	"supervisor.readProcessLog":       {"string", "string", "int", "int"},
	"supervisor.readProcessStderrLog": {"string", "string", "int", "int"},
	"supervisor.readProcessStdoutLog": {"string", "string", "int", "int"},
	"supervisor.reloadConfig":         {"array"},
	"supervisor.removeProcessGroup":   {"boolean", "string"},
	"supervisor.restart":              {"boolean"},
	"supervisor.sendProcessStdin":     {"boolean", "string", "string"},
	"supervisor.sendRemoteCommEvent":  {"boolean", "string", "string"},
	"supervisor.shutdown":             {"boolean"},
	"supervisor.signalAllProcesses":   {"array", "string"},
	"supervisor.signalProcess":        {"boolean", "string", "string"},
	"supervisor.signalProcessGroup":   {"array", "string", "string"},
	"supervisor.startAllProcesses":    {"array", "boolean"},
	"supervisor.startProcess":         {"boolean", "string", "boolean"},
	"supervisor.startProcessGroup":    {"array", "string", "boolean"},
	"supervisor.stopAllProcesses":     {"array", "boolean"},
	"supervisor.stopProcess":          {"boolean", "string", "boolean"},
	"supervisor.stopProcessGroup":     {"array", "string", "boolean"},
	"supervisor.tailProcessLog":       {"array", "string", "int", "int"},
	"supervisor.tailProcessStderrLog": {"array", "string", "int", "int"},
	"supervisor.tailProcessStdoutLog": {"array", "string", "int", "int"},
	"system.listMethods":              {"array"},
	"system.methodHelp":               {"string", "string"},
	"system.methodSignature":          {"array", "string"},
	"system.multicall":                {"array", "array"},
	"drover.getVersion":               {"struct"},
}

func TestIntrospection(t *testing.T) {
	h := newTestHandler(newFakeBackend())
	v, err := call(t, h, "system.listMethods")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, n := range v.([]any) {
		names = append(names, n.(string))
	}
	if len(names) != 42 || !slices.IsSorted(names) {
		t.Errorf("listMethods: %d names, sorted %v", len(names), slices.IsSorted(names))
	}
	for _, name := range names {
		sig, err := call(t, h, "system.methodSignature", name)
		var got []string
		for _, s := range sig.([]any) {
			got = append(got, s.(string))
		}
		if err != nil || !slices.Equal(got, wantSignatures[name]) {
			t.Errorf("methodSignature(%s) = %v %v, want %v", name, got, err, wantSignatures[name])
		}
		if help, err := call(t, h, "system.methodHelp", name); err != nil || help == "" {
			t.Errorf("methodHelp(%s) = %q %v", name, help, err)
		}
	}
	_, err = call(t, h, "system.methodSignature", "supervisor.nosuch")
	wantFault(t, err, 4, "SIGNATURE_UNSUPPORTED")
	_, err = call(t, h, "system.methodHelp", "nosuch")
	wantFault(t, err, 4, "SIGNATURE_UNSUPPORTED")
}

func TestDispatchFaults(t *testing.T) {
	h := newTestHandler(newFakeBackend(newFakeProc("g", "g", process.Stopped)))
	tests := []struct {
		method string
		params []any
		code   int
		text   string
	}{
		{"supervisor.nosuch", nil, 1, "UNKNOWN_METHOD"},
		{"getPID", nil, 1, "UNKNOWN_METHOD"},
		{"a.supervisor.getPID", nil, 1, "UNKNOWN_METHOD"},
		{"supervisor.getPID", []any{1}, 2, "INCORRECT_PARAMETERS"},
		{"supervisor.getProcessInfo", nil, 2, "INCORRECT_PARAMETERS"},
		{"supervisor.getProcessInfo", []any{5}, 2, "INCORRECT_PARAMETERS"},
		{"supervisor.getProcessInfo", []any{"nosuch"}, 10, "BAD_NAME: nosuch"},
		{"supervisor.getProcessInfo", []any{"g:*"}, 10, "BAD_NAME: g:*"},
		{"supervisor.startProcess", []any{"x:y", true}, 10, "BAD_NAME: x:y"},
		{"supervisor.startProcessGroup", []any{"nosuch"}, 10, "BAD_NAME: nosuch"},
		{"supervisor.stopProcess", []any{"g"}, 70, "NOT_RUNNING: g"},
		{"supervisor.signalProcess", []any{"g", "HUP"}, 70, "NOT_RUNNING: g"},
		{"supervisor.readProcessStdoutLog", []any{"g", 0, 0}, 20, "NO_FILE"},
	}
	b := h.b.(*fakeBackend)
	b.procs["g"][0].stopErr = process.ErrNotRunning
	for _, tt := range tests {
		_, err := call(t, h, tt.method, tt.params...)
		wantFault(t, err, tt.code, tt.text)
	}
}

func TestErrorMapping(t *testing.T) {
	tests := []struct {
		err  error
		code int
		text string
	}{
		{&process.SpawnError{Kind: process.SpawnNoFile, Msg: "can't find command '/nonexistent/bin'"}, 20, "NO_FILE: can't find command '/nonexistent/bin'"},
		{&process.SpawnError{Kind: process.SpawnNotExecutable, Msg: "command at '/etc' is a directory"}, 21, "NOT_EXECUTABLE: command at '/etc' is a directory"},
		{&process.SpawnError{Kind: process.SpawnFailed, Msg: "Exited too quickly"}, 50, "SPAWN_ERROR: g:p"},
		{process.ErrAlreadyStarted, 60, "ALREADY_STARTED: g:p"},
		{process.ErrNotRunning, 70, "NOT_RUNNING: g:p"},
		{process.ErrAbnormalTermination, 40, "ABNORMAL_TERMINATION: g:p"},
		{process.ErrUnknownState, 30, "FAILED: g:p is in an unknown process state"},
		{process.ErrStdinClosed, 20, "NO_FILE: g:p"},
		{supervisor.ErrBadName, 10, "BAD_NAME: g:p"},
		{supervisor.ErrAlreadyAdded, 90, "ALREADY_ADDED: g:p"},
		{supervisor.ErrStillRunning, 91, "STILL_RUNNING: g:p"},
		{supervisor.ErrShuttingDown, 6, "SHUTDOWN_STATE"},
		{logs.ErrBadArguments, 3, "BAD_ARGUMENTS"},
		{logs.ErrFailed, 30, "FAILED"},
		{&rereadError{&config.Error{Msg: "bad thing"}}, 92, "CANT_REREAD: bad thing"},
		{errors.New("boom"), 30, "FAILED: boom"},
	}
	for _, tt := range tests {
		p := newFakeProc("g", "p", process.Stopped)
		p.startErr = tt.err
		h := newTestHandler(newFakeBackend(p))
		_, err := call(t, h, "supervisor.startProcess", "g:p")
		wantFault(t, err, tt.code, tt.text)
	}
}

func TestShutdownState(t *testing.T) {
	b := newFakeBackend()
	h := newTestHandler(b)
	b.setMood(supervisor.MoodShutdown)
	_, err := call(t, h, "supervisor.getState")
	wantFault(t, err, 6, "SHUTDOWN_STATE")
	if _, err := call(t, h, "system.listMethods"); err != nil {
		t.Errorf("system.listMethods while stopping: %v", err)
	}
	if _, err := call(t, h, "supervisor.sendRemoteCommEvent", "t", "d"); err != nil {
		t.Errorf("sendRemoteCommEvent while stopping: %v", err)
	}
	_, err = call(t, h, "supervisor.signalAllProcesses", "HUP")
	wantFault(t, err, 6, "SHUTDOWN_STATE")
}

func TestStateMethods(t *testing.T) {
	b := newFakeBackend()
	h := newTestHandler(b)
	tests := []struct {
		method string
		want   any
	}{
		{"supervisor.getAPIVersion", "3.0"},
		{"supervisor.getVersion", "3.0"},
		{"supervisor.getSupervisorVersion", "4.2.5"},
		{"supervisor.getIdentification", "supervisor"},
		{"supervisor.getPID", 42},
		{"supervisor.getState", map[string]any{"statecode": 1, "statename": "RUNNING"}},
		{"supervisor.reloadConfig", []any{[]any{[]any{}, []any{}, []any{}}}},
		{"supervisor.shutdown", true},
		{"supervisor.restart", true},
	}
	for _, tt := range tests {
		got, err := call(t, h, tt.method)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s = %#v %v, want %#v", tt.method, got, err, tt.want)
		}
	}
	if b.shutdowns != 1 || b.restarts != 1 {
		t.Errorf("shutdowns %d restarts %d", b.shutdowns, b.restarts)
	}
	b.rereadErr = &config.Error{Msg: "File contains no section headers."}
	_, err := call(t, h, "supervisor.reloadConfig")
	wantFault(t, err, 92, "CANT_REREAD: File contains no section headers.")
	b.restartErr = &config.Error{Msg: "bad", File: "x.conf", Line: 3}
	_, err = call(t, h, "supervisor.restart")
	wantFault(t, err, 92, "CANT_REREAD: bad (file: 'x.conf', line 3)")
	b.groupErr = supervisor.ErrStillRunning
	_, err = call(t, h, "supervisor.removeProcessGroup", "g")
	wantFault(t, err, 91, "STILL_RUNNING: g")
}

func TestProcessInfo(t *testing.T) {
	start := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	defer func(f func() time.Time) { timeNow = f }(timeNow)
	timeNow = func() time.Time { return start.Add(26*time.Hour + 3*time.Minute + 4*time.Second) }
	p := newFakeProc("web", "web_0", process.Running)
	p.info.PID, p.info.Start, p.info.StdoutLog = 1234, start, "/tmp/out.log"
	h := newTestHandler(newFakeBackend(p))
	got, err := call(t, h, "supervisor.getProcessInfo", "web:web_0")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"name": "web_0", "group": "web", "description": "pid 1234, uptime 1 day, 2:03:04",
		"start": int(start.Unix()), "stop": 0, "now": int(timeNow().Unix()), "state": 20, "statename": "RUNNING",
		"spawnerr": "", "exitstatus": 0, "logfile": "/tmp/out.log", "stdout_logfile": "/tmp/out.log",
		"stderr_logfile": "", "pid": 1234,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %#v\nwant %#v", got, want)
	}
}

func TestDescription(t *testing.T) {
	start := time.Date(2026, 1, 1, 10, 0, 0, 0, time.Local)
	stop := time.Date(2026, 11, 25, 18, 5, 0, 0, time.Local)
	tests := []struct {
		info process.Info
		now  time.Time
		want string
	}{
		{process.Info{State: process.Running, PID: 7, Start: start}, start.Add(5 * time.Second), "pid 7, uptime 0:00:05"},
		{process.Info{State: process.Running, PID: 7, Start: start}, start.Add(50 * time.Hour), "pid 7, uptime 2 days, 2:00:00"},
		{process.Info{State: process.Running, PID: 7, Start: start}, start.Add(-time.Hour), "pid 7, uptime 0:00:00"},
		{process.Info{State: process.Running, PID: 2147483647, Start: start}, start.Add(24 * time.Hour), "pid 2147483647, uptime 1 day, 0:00:00"},
		{process.Info{State: process.Running, PID: 7, Start: start}, start.Add(10*time.Hour + 59*time.Minute + 59*time.Second), "pid 7, uptime 10:59:59"},
		{process.Info{State: process.Running, PID: 7, Start: start}, start.Add(1234*24*time.Hour + 60*time.Second), "pid 7, uptime 1234 days, 0:01:00"},
		{process.Info{State: process.Stopped, Waiting: "waiting for db (STARTING)"}, start, "waiting for db (STARTING)"},
		{process.Info{State: process.Running, PID: 7, Start: start, Waiting: "waiting for db (STARTING)"}, start, "pid 7, uptime 0:00:00"},
		{process.Info{State: process.Fatal, Name: "x", SpawnErr: "Exited too quickly (process log may have details)"}, start, "Exited too quickly (process log may have details)"},
		{process.Info{State: process.Backoff, Name: "x"}, start, `unknown error (try "tail x")`},
		{process.Info{State: process.Stopped}, start, "Not started"},
		{process.Info{State: process.Exited, Start: start, Stop: stop}, stop, "Nov 25 06:05 PM"},
		{process.Info{State: process.Starting}, start, ""},
	}
	for _, tt := range tests {
		if got := tt.info.Description(tt.now); got != tt.want {
			t.Errorf("description(%+v) = %q, want %q", tt.info, got, tt.want)
		}
	}
}

func TestLogMethods(t *testing.T) {
	dir := t.TempDir()
	mainPath := filepath.Join(dir, "supervisord.log")
	outPath := filepath.Join(dir, "out.log")
	os.WriteFile(mainPath, []byte("main log line\n"), 0o644)
	os.WriteFile(outPath, []byte("0123456789abcdefghijklmnopqrstu"), 0o644)
	p := newFakeProc("quick", "quick", process.Running)
	p.stdoutLog = outPath
	p.stderrLog = filepath.Join(dir, "missing.log")
	h := newHandler(newFakeBackend(p), &fakeMainLog{path: mainPath}, Options{})

	tests := []struct {
		method string
		params []any
		want   any
	}{
		{"supervisor.readLog", []any{0, 0}, "main log line\n"},
		{"supervisor.readMainLog", []any{-5, 0}, "line\n"},
		{"supervisor.readMainLog", []any{" -5", "0"}, "line\n"},
		{"supervisor.readProcessStdoutLog", []any{"quick", 2, 3}, "234"},
		{"supervisor.readProcessLog", []any{"quick", 2, 3}, "234"},
		{"supervisor.tailProcessStdoutLog", []any{"quick", 0, 3}, []any{"stu", 31, true}},
		{"supervisor.tailProcessLog", []any{"quick", 100, 3}, []any{"", 31, false}},
		{"supervisor.tailProcessStderrLog", []any{"quick", 0, 3}, []any{"", 0, false}},
		{"supervisor.clearLog", nil, true},
		{"supervisor.clearProcessLogs", []any{"quick"}, true},
		{"supervisor.clearAllProcessLogs", nil, []any{map[string]any{"name": "quick", "group": "quick", "status": 80, "description": "OK"}}},
	}
	for _, tt := range tests {
		got, err := call(t, h, tt.method, tt.params...)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s%v = %#v %v, want %#v", tt.method, tt.params, got, err, tt.want)
		}
	}
	_, err := call(t, h, "supervisor.readLog", -1, 5)
	wantFault(t, err, 3, "BAD_ARGUMENTS")
	_, err = call(t, h, "supervisor.readProcessStderrLog", "quick", 0, 0)
	wantFault(t, err, 20, "NO_FILE: "+p.stderrLog)
	p.clearErr = errors.New("EACCES")
	_, err = call(t, h, "supervisor.clearProcessLog", "quick")
	wantFault(t, err, 30, "FAILED: quick")
}

func TestSignalAndStdin(t *testing.T) {
	a := newFakeProc("g", "a", process.Running)
	b := newFakeProc("g", "b", process.Stopped)
	h := newTestHandler(newFakeBackend(a, b))
	if v, err := call(t, h, "supervisor.signalProcess", "g:a", "usr1"); v != true || err != nil {
		t.Errorf("signalProcess = %v %v", v, err)
	}
	_, err := call(t, h, "supervisor.signalProcess", "g:a", "99")
	wantFault(t, err, 11, "BAD_SIGNAL: 99")
	got, err := call(t, h, "supervisor.signalProcessGroup", "g", "TERM")
	want := []any{map[string]any{"name": "a", "group": "g", "status": 80, "description": "OK"}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("signalProcessGroup = %#v %v", got, err)
	}
	// Numbers as Python's int() reads them: int, bool, float (truncated).
	for _, sig := range []any{12, true, 10.9} {
		if v, err := call(t, h, "supervisor.signalProcess", "g:a", sig); v != true || err != nil {
			t.Errorf("signalProcess(%v) = %v %v", sig, v, err)
		}
	}
	_, err = call(t, h, "supervisor.signalProcess", "g:a", 99.5)
	wantFault(t, err, 11, "BAD_SIGNAL: 99.5")
	_, err = call(t, h, "supervisor.signalAllProcesses", 1e30)
	if err != nil {
		t.Errorf("signalAllProcesses(1e30) = %v, want results with BAD_SIGNAL", err)
	}
	wantSigs := []syscall.Signal{syscall.SIGUSR1, syscall.SIGTERM, syscall.SIGUSR2, syscall.SIGHUP, syscall.SIGUSR1}
	if !slices.Equal(a.signals, wantSigs) {
		t.Errorf("signals %v, want %v", a.signals, wantSigs)
	}
	if v, err := call(t, h, "supervisor.sendProcessStdin", "g:a", "héllo\n"); v != true || err != nil || string(a.stdin) != "héllo\n" {
		t.Errorf("sendProcessStdin = %v %v, stdin %q", v, err, a.stdin)
	}
	_, err = call(t, h, "supervisor.sendProcessStdin", "g:a", 5)
	wantFault(t, err, 2, "INCORRECT_PARAMETERS: 5")
}

func TestMulticall(t *testing.T) {
	p := newFakeProc("g", "g", process.Stopped)
	h := newTestHandler(newFakeBackend(p))
	got, err := call(t, h, "system.multicall", []any{
		map[string]any{"methodName": "supervisor.getPID"},
		map[string]any{"methodName": "supervisor.startProcess", "params": []any{"g"}},
		map[string]any{"methodName": "supervisor.getProcessInfo", "params": []any{"nosuch"}},
		map[string]any{"params": []any{}},
		map[string]any{"methodName": "system.multicall", "params": []any{[]any{}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []any{
		42,
		true,
		map[string]any{"faultCode": 10, "faultString": "BAD_NAME: nosuch"},
		map[string]any{"faultCode": 2, "faultString": "INCORRECT_PARAMETERS: No methodName"},
		map[string]any{"faultCode": 2, "faultString": "INCORRECT_PARAMETERS: Recursive system.multicall forbidden"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %#v\nwant %#v", got, want)
	}
}

func TestMulticallLength(t *testing.T) {
	h := newTestHandler(newFakeBackend())
	calls := make([]any, maxMulticallCalls+1)
	for i := range calls {
		calls[i] = map[string]any{"methodName": "supervisor.getPID"}
	}
	_, err := call(t, h, "system.multicall", calls)
	wantFault(t, err, 2, "INCORRECT_PARAMETERS: 1001 calls in one system.multicall, at most 1000")
	got, err := call(t, h, "system.multicall", calls[:maxMulticallCalls])
	if a, ok := got.([]any); err != nil || !ok || len(a) != maxMulticallCalls {
		t.Errorf("%d calls: %d results, err %v", maxMulticallCalls, len(a), err)
	}
}

func TestGetAllConfigInfo(t *testing.T) {
	running := newFakeProc("cat", "cat", process.Running)
	running.stderrLog = "/tmp/cat-stderr---supervisor-x.log"
	b := newFakeBackend(running)
	*running.cfg = config.Process{Name: "cat", Group: "cat", Command: "/bin/cat", UID: 0, Directory: "/tmp", Stdout: config.ChildLog{Kind: config.LogFile, Path: "/tmp/c.log", MaxBytes: 1024}}
	b.pending = &config.Config{Groups: []*config.Group{
		{Name: "zgroup", Priority: 5, Processes: []*config.Process{{Name: "b", UID: -1, StopSignal: 15, StopWait: 10 * time.Second, StartSecs: time.Second, ServerURL: "AUTO", ExitCodes: []int{0}, Stdout: config.ChildLog{Kind: config.LogAuto}, Stderr: config.ChildLog{Kind: config.LogNone}}}},
		{Name: "cat", Priority: 999, Processes: []*config.Process{running.cfg}},
	}}
	got, err := call(t, newTestHandler(b), "supervisor.getAllConfigInfo")
	if err != nil {
		t.Fatal(err)
	}
	infos := got.([]any)
	if len(infos) != 2 {
		t.Fatalf("got %d infos", len(infos))
	}
	b0, c := infos[0].(map[string]any), infos[1].(map[string]any)
	if b0["name"] != "b" || c["name"] != "cat" {
		t.Errorf("order: %v, %v", b0["name"], c["name"])
	}
	if len(b0) != 29 {
		t.Errorf("%d keys, want 29: %v", len(b0), b0)
	}
	checks := []struct {
		info map[string]any
		key  string
		want any
	}{
		{b0, "inuse", false}, {c, "inuse", true}, {b0, "uid", "none"}, {c, "uid", 0},
		{b0, "directory", "none"}, {c, "directory", "/tmp"}, {b0, "serverurl", "none"},
		{b0, "stdout_logfile", "auto"}, {c, "stderr_logfile", "/tmp/cat-stderr---supervisor-x.log"}, {b0, "stderr_logfile", "none"}, {c, "stdout_logfile", "/tmp/c.log"},
		{c, "stdout_logfile_maxbytes", 1024}, {b0, "stopsignal", 15}, {b0, "stopwaitsecs", 10},
		{b0, "startsecs", 1}, {b0, "exitcodes", []any{0}}, {b0, "group_prio", 5}, {c, "command", "/bin/cat"},
	}
	for _, ck := range checks {
		if !reflect.DeepEqual(ck.info[ck.key], ck.want) {
			t.Errorf("%s[%s] = %#v, want %#v", ck.info["name"], ck.key, ck.info[ck.key], ck.want)
		}
	}
}

func TestPanics(t *testing.T) {
	h := newTestHandler(newFakeBackend())
	h.table["supervisor.boom"] = &method{result: "boolean", call: func(context.Context, []any) (any, error) { panic("boom") }}
	rec := httptest.NewRecorder()
	var body bytes.Buffer
	xmlrpc.EncodeCall(&body, "supervisor.boom")
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/RPC2", &body))
	if rec.Code != 500 {
		t.Errorf("panic: HTTP %d", rec.Code)
	}
	got, err := call(t, h, "system.multicall", []any{map[string]any{"methodName": "supervisor.boom"}})
	want := []any{map[string]any{"faultCode": 30, "faultString": "FAILED: panic: boom"}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("multicall = %#v %v", got, err)
	}
}

// ServeHTTP serves h's routes as the daemon mounts them on a server
// without authentication.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	serveWithAuth(h, nil).ServeHTTP(w, r)
}

// serveWithAuth mounts h's routes on a mux served with auth.
func serveWithAuth(h *handler, auth *httpmux.Auth) http.Handler {
	m := httpmux.New()
	h.register(m)
	return m.Handler(auth)
}

// newServer is what the daemon serves for opts on a server without authentication.
func newServer(opts Options) http.Handler {
	m := httpmux.New()
	Register(m, opts)
	return m.Handler(nil)
}
