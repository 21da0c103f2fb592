package rpc

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/pool"
	"github.com/drover/drover/internal/queue"
	"github.com/drover/drover/internal/supervisor"
	"github.com/drover/drover/internal/xmlrpc"
)

// TestRealSupervisor drives a real Supervisor with real children through
// the HTTP handler.
func TestRealSupervisor(t *testing.T) {
	rpc := serveSupervisor(t, `[supervisord]
logfile=%[1]s/main.log
childlogdir=%[1]s

[program:echo]
command=/bin/sh -c "echo hello; exec sleep 1000"
startsecs=0
stdout_logfile=%[1]s/echo.log

[program:slow]
command=/bin/sleep 1000
autostart=false
startsecs=1
stdout_logfile=NONE

[program:bad]
command=/nonexistent/bin
autostart=false
stdout_logfile=NONE
`, serveOptions{})

	// The autostarted process comes up; its log gets its output.
	deadline := time.Now().Add(20 * time.Second)
	for {
		info, err := rpc("supervisor.getProcessInfo", "echo")
		if err != nil {
			t.Fatal(err)
		}
		if info.(map[string]any)["statename"] == "RUNNING" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("echo never RUNNING: %v", info)
		}
		time.Sleep(20 * time.Millisecond)
	}
	for {
		v, err := rpc("supervisor.tailProcessStdoutLog", "echo", 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		if v.([]any)[0] == "hello\n" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("tail = %v", v)
		}
		time.Sleep(20 * time.Millisecond)
	}

	steps := []struct {
		method string
		params []any
		want   any
		fault  string
	}{
		{"supervisor.startProcess", []any{"slow"}, true, ""},
		{"supervisor.startProcess", []any{"slow"}, nil, "ALREADY_STARTED: slow"},
		{"supervisor.startProcess", []any{"bad"}, nil, "NO_FILE: can't find command '/nonexistent/bin'"},
		{"supervisor.stopProcess", []any{"slow"}, true, ""},
		{"supervisor.stopProcess", []any{"slow"}, nil, "NOT_RUNNING: slow"},
		{"supervisor.readProcessStdoutLog", []any{"slow", 0, 0}, nil, "NO_FILE"},
		{"supervisor.stopAllProcesses", nil, []any{map[string]any{"name": "echo", "group": "echo", "status": 80, "description": "OK"}}, ""},
	}
	for _, st := range steps {
		got, err := rpc(st.method, st.params...)
		if st.fault != "" {
			if f, ok := err.(*xmlrpc.Fault); !ok || f.String != st.fault {
				t.Errorf("%s%v = %v, %v; want fault %q", st.method, st.params, got, err, st.fault)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, st.want) {
			t.Errorf("%s%v = %#v, %v; want %#v", st.method, st.params, got, err, st.want)
		}
	}
	infos, err := rpc("supervisor.getAllProcessInfo")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, i := range infos.([]any) {
		m := i.(map[string]any)
		names = append(names, fmt.Sprint(m["name"], "=", m["statename"]))
	}
	if got := strings.Join(names, " "); got != "bad=STOPPED echo=STOPPED slow=STOPPED" {
		t.Errorf("getAllProcessInfo: %s", got)
	}
}

// serveSupervisor runs a real Supervisor on the config text (with %[1]s
// standing for a temp dir) behind the HTTP handler, and
// returns a function making one XML-RPC call to it. The Supervisor is shut
// down, and must have returned, when the test ends.
// serveOptions are what the tests vary of a served Supervisor: its loader
// and its pools' queues.
type serveOptions struct {
	Load   func() (*config.Config, error)
	Queues func(config.QueueSource) queue.Source
}

func serveSupervisor(t *testing.T, confText string, opts serveOptions) func(method string, params ...any) (any, error) {
	t.Helper()
	dir := t.TempDir()
	conf := filepath.Join(dir, "supervisord.conf")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(confText, dir)), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(conf, config.Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	pools := pool.New(pool.Options{Queues: opts.Queues})
	s := supervisor.New(cfg, supervisor.Options{Load: opts.Load, Hooks: pools.Hooks(supervisor.Hooks{})})
	pools.Bind(s)
	runDone := make(chan error, 1)
	go func() {
		_, err := s.Run(t.Context())
		runDone <- err
	}()
	t.Cleanup(func() {
		s.Shutdown()
		select {
		case err := <-runDone:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("Run did not return after Shutdown")
		}
	})
	<-s.Ready()
	srv := httptest.NewServer(newServer(Options{Supervisor: s, Pools: pools, PID: os.Getpid()}))
	t.Cleanup(srv.Close)
	return func(method string, params ...any) (any, error) {
		var body bytes.Buffer
		xmlrpc.EncodeCall(&body, method, params...)
		resp, err := http.Post(srv.URL+"/RPC2", "text/xml", &body)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		return xmlrpc.DecodeResponse(resp.Body)
	}
}
