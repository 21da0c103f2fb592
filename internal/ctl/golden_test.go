package ctl

import (
	"slices"
	"strings"
	"testing"
)

// compareScript runs every command line of script with Debian's
// supervisorctl against daemon a and with this client against daemon b
// (same configuration), and compares stdout, stderr and exit status after
// normalising pids, uptimes, dates and temp dirs. A line starting with "~"
// reports in server completion order (parallel starts/stops): its output
// lines are compared as a set and its exit status (which the last error
// decides) is not compared.
func compareScript(t *testing.T, a, b *daemon, script []string) {
	t.Helper()
	for _, line := range script {
		unordered := strings.HasPrefix(line, "~")
		args := strings.Fields(strings.TrimPrefix(line, "~"))
		want := runReal(t, "", append([]string{"-s", a.url}, args...)...)
		got := runOurs(t, "", append([]string{"-s", b.url}, args...)...)
		if unordered {
			want.stdout, got.stdout = sortLines(want.stdout), sortLines(got.stdout)
			want.code = got.code
		}
		if normalise(want.stdout) != normalise(got.stdout) || want.code != got.code ||
			normalise(want.stderr) != normalise(got.stderr) {
			t.Errorf("%q:\nsupervisorctl (exit %d):\n%s%s\ndrover (exit %d):\n%s%s", line,
				want.code, want.stdout, want.stderr, got.code, got.stdout, got.stderr)
		}
		a.waitSettled(t)
		b.waitSettled(t)
	}
}

func TestGoldenCommands(t *testing.T) {
	t.Parallel()
	a := startDaemon(t, "", 0)
	b := startServerUnderTest(t, "", 0)
	compareScript(t, a, b, []string{
		"status", "status cat", "status nosuch", "status grp:*", "status grp:", "status nosuch:*",
		"status cat manual nosuch", "status all", "status grp:a worker:*",
		"start", "start nofile", "start failer", "start nosuch:*", "start nosuch", "start cat",
		"start manual", "status manual", "~start grp:*", "stop manual", "stop manual", "stop nosuch",
		"stop nosuch:*", "stop", "~stop grp:*", "~start grp:*", "restart", "~restart grp:a", "restart nosuch",
		"signal", "signal HUP", "signal FOO cat", "signal HUP manual", "signal HUP nosuch",
		"~signal 0 grp:*", "signal USR1 nosuch:*", "signal 0 worker:worker_00 cat",
		"pid", "pid cat", "pid manual", "pid nosuch", "pid all",
		"tail quick", "tail quick stderr", "tail -3 quick", "tail nosuch", "tail -x quick",
		"tail quick foo", "tail", "tail a b c d", "tail -f", "tail quick STDERR",
		"maintail -x", "maintail a b", "maintail foo",
		"clear", "clear quick", "clear nosuch", "~clear grp:*", "clear quick cat",
		"fg", "fg a b", "fg nosuch", "fg manual",
		"version", "version x", "avail", "avail x", "reread", "reread x", "update", "update nosuch",
		"add x", "add cat", "remove cat", "remove nosuch", "reload x", "shutdown x",
		"open foo", "open", "help", "help status", "help foo", "help help", "help EOF", "help tail",
		"help maintail", "help restart", "help signal", "help fg", "help open", "help pid",
		"help clear", "help update", "help add", "help remove", "help reread", "help reload",
		"help shutdown", "help version", "help avail", "help quit", "help exit", "help start", "help stop",
		"foo", "?", "quit", "exit", "EOF", "status,cat", "!ls",
		"~stop all", "status", "~start all", "~clear all", "~signal 0 all", "~restart all",
	})
}

func TestGoldenUpdate(t *testing.T) {
	t.Parallel()
	a := startDaemon(t, "", 0)
	b := startServerUnderTest(t, "", 0)
	const before = `
[program:keep]
command=/bin/sleep 1000
[program:change]
command=/bin/sleep 1000
[program:gone]
command=/bin/sleep 1000
`
	const after = `
[program:keep]
command=/bin/sleep 1000
[program:change]
command=/bin/sleep 1001
[program:new]
command=/bin/sleep 1000
[program:zz]
command=/bin/sleep 1000
autostart=false
`
	for _, d := range []*daemon{a, b} {
		d.rewrite(t, 0, before)
	}
	compareScript(t, a, b, []string{"reread", "update", "status", "reread"})
	for _, d := range []*daemon{a, b} {
		d.rewrite(t, 0, after)
	}
	compareScript(t, a, b, []string{"reread", "avail", "update nosuch new", "status",
		"update all", "status", "update", "remove zz", "add zz", "add zz", "avail"})
	for _, d := range []*daemon{a, b} {
		d.rewrite(t, 0, "[program:broken\n")
	}
	compareScript(t, a, b, []string{"reread", "update"})
	for _, d := range []*daemon{a, b} {
		d.rewrite(t, 0, before)
	}
	compareScript(t, a, b, []string{"update zz", "update", "status"})
}

func TestGoldenUnreachable(t *testing.T) {
	t.Parallel()
	needRealClient(t)
	script := []string{"status", "version", "reread", "avail", "add x", "remove x", "update", "reload",
		"shutdown", "pid", "tail cat", "maintail", "start cat", "stop cat", "clear cat", "fg cat",
		"signal HUP cat", "restart cat"}
	for _, url := range []string{"unix:///tmp/drv-nonexistent.sock", "http://127.0.0.1:1", "unix:///etc/passwd"} {
		for _, line := range script {
			args := append([]string{"-s", url}, strings.Fields(line)...)
			want, got := runReal(t, "", args...), runOurs(t, "", args...)
			if want.normalised() != got.normalised() {
				t.Errorf("%s %q:\nsupervisorctl: %+v\ndrover:        %+v", url, line, want, got)
			}
		}
	}
}

func TestGoldenOptions(t *testing.T) {
	t.Parallel()
	needRealClient(t)
	for _, args := range [][]string{
		{"-x"}, {"--version"}, {"-s", "foo", "status"}, {"-s"}, {"--serverurl"}, {"--interactive=1"},
		{"--h"}, {"--he"}, {"-h"}, {"-?"}, {"--help"}, {"-c", "/nonexistent.conf", "status"},
		{"-s", "http://127.0.0.1:1", "-s", "http://127.0.0.1:2", "status"},
		{"-s", "localhost:1", "status"}, {"--serv=http://127.0.0.1:1", "status"},
		{"-ihs", "x"}, {"-s", "http://", "status"}, {"-s", "unix:///tmp/drv-none.sock", "--", "status"},
	} {
		want, got := runReal(t, "", args...), runOurs(t, "", args...)
		if want.normalised() != got.normalised() {
			t.Errorf("%q:\nsupervisorctl: %+v\ndrover:        %+v", args, want, got)
		}
	}
}

func sortLines(s string) string {
	lines := strings.Split(s, "\n")
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}
