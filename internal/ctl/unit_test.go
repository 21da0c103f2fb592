package ctl

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/drover/drover/internal/pyrepr"
	"github.com/drover/drover/internal/wire"
	"github.com/drover/drover/internal/xmlrpc"
)

func TestGetopt(t *testing.T) {
	for _, c := range []struct {
		args     []string
		opts     []string // name=arg
		rest     []string
		errorMsg string
	}{
		{[]string{"-s", "u", "status"}, []string{"-s=u"}, []string{"status"}, ""},
		{[]string{"-su", "-i", "x", "-s", "y"}, []string{"-s=u", "-i="}, []string{"x", "-s", "y"}, ""},
		{[]string{"--serv=a", "--inter", "--", "-x"}, []string{"--serverurl=a", "--interactive="}, []string{"-x"}, ""},
		{[]string{"--history-file", "h"}, []string{"--history_file=h"}, nil, ""},
		{[]string{"-", "x"}, nil, []string{"-", "x"}, ""},
		{[]string{"-x"}, nil, nil, "option -x not recognized"},
		{[]string{"-s"}, nil, nil, "option -s requires argument"},
		{[]string{"--h"}, nil, nil, "option --h not a unique prefix"},
		{[]string{"--interactive=1"}, nil, nil, "option --interactive must not have an argument"},
		{[]string{"--password"}, nil, nil, "option --password requires argument"},
	} {
		opts, rest, err := getopt(c.args)
		if c.errorMsg != "" {
			if err == nil || err.Error() != c.errorMsg {
				t.Errorf("getopt(%q) error = %v, want %q", c.args, err, c.errorMsg)
			}
			continue
		}
		var got []string
		for _, o := range opts {
			got = append(got, o.name+"="+o.arg)
		}
		if err != nil || !slices.Equal(got, c.opts) || !slices.Equal(rest, c.rest) {
			t.Errorf("getopt(%q) = %q, %q, %v; want %q, %q", c.args, got, rest, err, c.opts, c.rest)
		}
	}
}

func TestParseLine(t *testing.T) {
	for _, c := range []struct{ line, cmd, arg string }{
		{"status", "status", ""},
		{"  start  a b ", "start", "a b"},
		{"?status", "help", "status"},
		{"status,cat", "status", ",cat"},
		{"!ls", "", "!ls"},
		{"EOF", "EOF", ""},
	} {
		if cmd, arg := parseLine(c.line); cmd != c.cmd || arg != c.arg {
			t.Errorf("parseLine(%q) = %q, %q; want %q, %q", c.line, cmd, arg, c.cmd, c.arg)
		}
	}
}

func TestSplitNamespec(t *testing.T) {
	for _, c := range []struct {
		ns, group, process string
		whole              bool
	}{
		{"cat", "cat", "cat", false},
		{"grp:a", "grp", "a", false},
		{"grp:*", "grp", "", true},
		{"grp:", "grp", "", true},
		{"a:b:c", "a", "b:c", false},
	} {
		g, p, w := splitNamespec(c.ns)
		if g != c.group || p != c.process || w != c.whole {
			t.Errorf("splitNamespec(%q) = %q, %q, %v", c.ns, g, p, w)
		}
	}
}

func TestSetExitFromFault(t *testing.T) {
	for _, c := range []struct{ start, code, ignored, want int }{
		{0, wire.FaultSuccess, -1, 0},
		{1, wire.FaultSuccess, -1, 1},
		{0, wire.FaultAlreadyStarted, wire.FaultAlreadyStarted, 0},
		{0, wire.FaultSpawnError, wire.FaultAlreadyStarted, exitNotRunning},
		{1, wire.FaultAbnormalTermination, -1, exitNotRunning},
		{0, wire.FaultNotRunning, -1, exitNotRunning},
		{0, wire.FaultNotRunning, wire.FaultNotRunning, 0},
		{exitNotRunning, wire.FaultNoFile, -1, exitGeneric},
	} {
		ctl := &controller{exitStatus: c.start}
		ctl.setExitFromFault(c.code, c.ignored)
		if ctl.exitStatus != c.want {
			t.Errorf("from %d, fault %d (ignoring %d): exit %d, want %d", c.start, c.code, c.ignored, ctl.exitStatus, c.want)
		}
	}
}

func TestPyRepr(t *testing.T) {
	for in, want := range map[string]string{
		"foo":       "'foo'",
		"it's":      `"it's"`,
		`a'b"c`:     `'a\'b"c'`,
		"tab\tnl\n": `'tab\tnl\n'`,
	} {
		if got := pyrepr.Str(in); got != want {
			t.Errorf("pyrepr.Str(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestResultLine(t *testing.T) {
	for _, c := range []struct {
		group, name string
		code        int
		desc, verb  string
		want        string
	}{
		{"cat", "cat", wire.FaultSuccess, "OK", "started", "cat: started"},
		{"g", "a", wire.FaultSpawnError, "", "started", "g:a: ERROR (spawn error)"},
		{"g", "a", wire.FaultNotRunning, "", "stopped", "g:a: ERROR (not running)"},
		{"g", "a", wire.FaultFailed, "FAILED: boom", "stopped", "FAILED: boom"},
		{"g", "a", wire.FaultBadSignal, "", "signalled", "g:a: ERROR (bad signal name)"},
		{"g", "None", wire.FaultBadName, "", "cleared", "g:None: ERROR (no such process)"},
		{"x", "x", wire.FaultFailed, "", "cleared", "x: ERROR (failed)"},
	} {
		got, err := resultLine(c.group, c.name, c.code, c.desc, c.verb)
		if err != nil || got != c.want {
			t.Errorf("resultLine(%q, %q, %d, %q) = %q, %v; want %q", c.group, c.name, c.code, c.verb, got, err, c.want)
		}
	}
	if _, err := resultLine("g", "a", wire.FaultFailed, "", "started"); err == nil {
		t.Error("an unexpected start result code must be an error")
	}
}

func TestInterruptRouterInnermostFirst(t *testing.T) {
	source := make(chan os.Signal)
	r := newInterruptRouter(source)
	defer r.close()
	outer, stopOuter := r.push(context.Background())
	defer stopOuter()
	inner, stopInner := r.push(context.Background())
	source <- os.Interrupt
	<-inner.Done()
	if outer.Err() != nil {
		t.Fatal("the outer context was cancelled by an interrupt meant for the inner one")
	}
	stopInner()
	source <- os.Interrupt
	<-outer.Done()
}

// fakeServer answers every XML-RPC call with the given value or fault.
func fakeServer(t *testing.T, answer func(w http.ResponseWriter)) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { answer(w) }))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestUpcheckMessages(t *testing.T) {
	for _, c := range []struct {
		name   string
		answer func(w http.ResponseWriter)
		out    string
		code   int
	}{
		{"api mismatch", func(w http.ResponseWriter) { xmlrpc.EncodeResponse(w, "2.0") },
			"Sorry, this version of supervisorctl expects to talk to a server with API version 3.0, but the remote version is 2.0.\n", exitNotInstalled},
		{"no rpcinterface", func(w http.ResponseWriter) { xmlrpc.EncodeFault(w, &xmlrpc.Fault{Code: 1, String: "UNKNOWN_METHOD"}) },
			"Sorry, supervisord responded but did not recognize the supervisor namespace commands that supervisorctl uses to control it.  Please check that the [rpcinterface:supervisor] section is enabled in the configuration file (see sample.conf).\n", exitUnimplemented},
		{"shutting down", func(w http.ResponseWriter) { xmlrpc.EncodeFault(w, &xmlrpc.Fault{Code: 6, String: "SHUTDOWN_STATE"}) },
			"error: <class 'xmlrpc.client.Fault'>, <Fault 6: 'SHUTDOWN_STATE'>: file: /usr/lib/python3.11/xmlrpc/client.py line: 668\n", exitGeneric},
		{"server error", func(w http.ResponseWriter) { w.WriteHeader(500) },
			"error: <class 'xmlrpc.client.ProtocolError'>, <ProtocolError for 127.0.0.1/RPC2: 500 Internal Server Error>: file: /usr/lib/python3/dist-packages/supervisor/xmlrpc.py line: 539\n", exitGeneric},
	} {
		url := fakeServer(t, c.answer)
		var out bytes.Buffer
		code := Run(context.Background(), Invocation{Prog: "supervisorctl", Args: []string{"-s", url, "version"},
			Stdin: strings.NewReader(""), Stdout: &out, Stderr: &out, Interrupts: make(chan os.Signal)})
		if out.String() != c.out || code != c.code {
			t.Errorf("%s: got exit %d %q, want exit %d %q", c.name, code, out.String(), c.code, c.out)
		}
	}
}
