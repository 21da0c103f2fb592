package ctl

import (
	"slices"
	"strings"
	"sync"
	"testing"
)

// compareScript runs every command line of script through every pairing
// (each on its own daemon, all in parallel) and compares stdout, stderr
// and exit status with the reference pairing's (Debian's supervisorctl on
// Python's supervisord) after normalising pids, uptimes, dates, temp dirs
// and ports. A line starting with "~" reports in server completion order
// (parallel starts/stops; even Python's supervisord orders `start all`
// differently from run to run under load, as a quick failure lands before
// or after an immediate one): its output lines are compared as a set and
// its exit status (which the last error decides) is not compared.
func compareScript(t *testing.T, ps []pairing, script []string) {
	t.Helper()
	for _, line := range script {
		unordered := strings.HasPrefix(line, "~")
		args := strings.Fields(strings.TrimPrefix(line, "~"))
		results := runAll(t, ps, "", func(p pairing) []string { return append([]string{"-s", p.d.url}, args...) })
		if unordered {
			for i := range results {
				results[i].stdout = sortLines(results[i].stdout)
				results[i].code = results[0].code
			}
		}
		reportDifferences(t, line, ps, results)
		settleAll(t, ps)
	}
}

// runAll runs one client invocation per pairing, in parallel, with the
// arguments args gives for it.
func runAll(t *testing.T, ps []pairing, stdin string, args func(p pairing) []string) []result {
	t.Helper()
	results := make([]result, len(ps))
	var wg sync.WaitGroup
	for i, p := range ps {
		wg.Go(func() { results[i] = p.client.run(t, stdin, args(p)...) })
	}
	wg.Wait()
	return results
}

// reportDifferences fails the test for each pairing whose normalised
// result differs from the reference's (the first).
func reportDifferences(t *testing.T, what string, ps []pairing, results []result) {
	t.Helper()
	want := results[0]
	for i, got := range results[1:] {
		if want.normalised() != got.normalised() {
			t.Errorf("%s:\n%s (exit %d):\n%s%s\n%s (exit %d):\n%s%s", what,
				ps[0], want.code, want.stdout, want.stderr, ps[i+1], got.code, got.stdout, got.stderr)
		}
	}
}

// settleAll waits until no daemon has a process in transition.
func settleAll(t *testing.T, ps []pairing) {
	t.Helper()
	errs := make([]error, len(ps))
	var wg sync.WaitGroup
	for i, p := range ps {
		wg.Go(func() { errs[i] = p.d.settle() })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("%s: %v", ps[i], err)
		}
	}
}

func TestGoldenCommands(t *testing.T) {
	t.Parallel()
	ps := startPairings(t, "", false)
	compareScript(t, ps, []string{
		"status", "status cat", "status nosuch", "status grp:*", "status grp:", "status nosuch:*",
		"status cat manual nosuch", "status all", "status grp:a worker:*",
		"start", "start nofile", "start failer", "start nosuch:*", "start nosuch", "start cat",
		"start manual", "status manual", "start grp:*", "stop manual", "stop manual", "stop nosuch",
		"stop nosuch:*", "stop", "~stop grp:*", "start grp:*", "restart", "~restart grp:a", "restart nosuch",
		"signal", "signal HUP", "signal FOO cat", "signal HUP manual", "signal HUP nosuch",
		"signal 0 grp:*", "signal USR1 nosuch:*", "signal 0 worker:worker_00 cat",
		"pid", "pid cat", "pid manual", "pid nosuch", "pid all",
		"tail quick", "tail quick stderr", "tail -3 quick", "tail nosuch", "tail -x quick",
		"tail quick foo", "tail", "tail a b c d", "tail -f", "tail quick STDERR",
		"tail named", "tail named stderr", "tail -f named", "tail -f nosuch", "clear named",
		"maintail -x", "maintail a b", "maintail foo",
		"clear", "clear quick", "clear nosuch", "clear grp:*", "clear quick cat",
		"fg", "fg a b", "fg nosuch", "fg manual",
		"version", "version x", "avail", "avail x", "reread", "reread x", "update", "update nosuch",
		"add x", "add cat", "remove cat", "remove nosuch", "reload x", "shutdown x",
		"open foo", "open", "help", "help status", "help foo", "help help", "help EOF", "help tail",
		"help maintail", "help restart", "help signal", "help fg", "help open", "help pid",
		"help clear", "help update", "help add", "help remove", "help reread", "help reload",
		"help shutdown", "help version", "help avail", "help quit", "help exit", "help start", "help stop",
		"foo", "?", "quit", "exit", "EOF", "status,cat", "!ls",
		"~stop all", "status", "~start all", "status", "tail named", "clear all", "signal 0 all", "~restart all",
	})
}

func TestGoldenUpdate(t *testing.T) {
	t.Parallel()
	ps := startPairings(t, "", false)
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
	rewriteAll(t, ps, before)
	compareScript(t, ps, []string{"reread", "update", "status", "reread"})
	rewriteAll(t, ps, after)
	compareScript(t, ps, []string{"reread", "avail", "update nosuch new", "status",
		"update all", "status", "update", "remove zz", "add zz", "add zz", "avail"})
	rewriteAll(t, ps, "[program:broken\n")
	compareScript(t, ps, []string{"reread", "update"})
	rewriteAll(t, ps, before)
	compareScript(t, ps, []string{"update zz", "update", "status"})
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

func rewriteAll(t *testing.T, ps []pairing, progs string) {
	t.Helper()
	for _, p := range ps {
		p.d.rewrite(t, 0, progs)
	}
}

func sortLines(s string) string {
	lines := strings.Split(s, "\n")
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}
