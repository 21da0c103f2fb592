package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// Commands for the container scripts (testdata/container_*.txtar), which run
// the daemon as PID 1 of a new PID namespace (unshare --pid --fork).

// nspid1 VAR [timeout]: set $VAR to the host pid of the process that is PID
// 1 of a child PID namespace and runs in $WORK (the daemon the script
// started under unshare).
func cmdNSPID1(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 || len(args) > 2 {
		ts.Fatalf("usage: nspid1 VAR [timeout]")
	}
	work := ts.Getenv("WORK")
	found := 0
	poll(ts, waitArg(ts, args, 1), "nspid1", func() (bool, string) {
		entries, _ := os.ReadDir("/proc")
		for _, e := range entries {
			if pid, err := strconv.Atoi(e.Name()); err == nil && isNSInit(pid, work) {
				found = pid
				return true, ""
			}
		}
		return false, "no PID 1 of a namespace in $WORK"
	})
	ts.Setenv(args[0], strconv.Itoa(found))
	// unshare ignores the interrupt testscript sends its background
	// commands: a failed script would wait for the namespace until the test
	// deadline. Killing its PID 1 ends it at once.
	ts.Defer(func() {
		if isNSInit(found, work) {
			syscall.Kill(found, syscall.SIGKILL)
		}
	})
}

// isNSInit reports whether pid is PID 1 of a child PID namespace and runs in dir.
func isNSInit(pid int, dir string) bool {
	proc := filepath.Join("/proc", strconv.Itoa(pid))
	if cwd, _ := os.Readlink(filepath.Join(proc, "cwd")); cwd != dir {
		return false
	}
	status, _ := os.ReadFile(filepath.Join(proc, "status"))
	for _, l := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(l, "NSpid:"); ok {
			f := strings.Fields(rest)
			return len(f) >= 2 && f[len(f)-1] == "1"
		}
	}
	return false
}

// zombies PID N [timeout]: wait until process PID has exactly N zombie children.
func cmdZombies(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 || len(args) > 3 {
		ts.Fatalf("usage: zombies PID N [timeout]")
	}
	want, err := strconv.Atoi(args[1])
	ts.Check(err)
	poll(ts, waitArg(ts, args, 2), "zombies "+args[0], func() (bool, string) {
		tasks, _ := filepath.Glob(filepath.Join("/proc", args[0], "task", "*", "children"))
		n := 0
		for _, t := range tasks {
			b, _ := os.ReadFile(t)
			for _, child := range strings.Fields(string(b)) {
				stat, _ := os.ReadFile(filepath.Join("/proc", child, "stat"))
				// The state follows the parenthesised command name.
				if i := bytes.LastIndexByte(stat, ')'); i >= 0 && bytes.HasPrefix(stat[i:], []byte(") Z")) {
					n++
				}
			}
		}
		return n == want, fmt.Sprintf("%d zombies", n)
	})
}

// countmatch PATTERN FILE N [timeout]: wait until exactly N lines of FILE
// match the regular expression PATTERN.
func cmdCountMatch(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 3 || len(args) > 4 {
		ts.Fatalf("usage: countmatch PATTERN FILE N [timeout]")
	}
	re, err := regexp.Compile("(?m)" + args[0])
	ts.Check(err)
	want, err := strconv.Atoi(args[2])
	ts.Check(err)
	poll(ts, waitArg(ts, args, 3), "countmatch "+args[0], func() (bool, string) {
		data, _ := os.ReadFile(ts.MkAbs(args[1]))
		n := len(re.FindAll(data, -1))
		return n == want, fmt.Sprintf("%d lines", n)
	})
}

// exitsright FILE MIN: every "exited: pN (exit status M; ...)" line of the
// main log FILE has M == N (a supervised child's status was not taken by the
// orphan reaper), and there are at least MIN of them.
func cmdExitsRight(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: exitsright FILE MIN")
	}
	least, err := strconv.Atoi(args[1])
	ts.Check(err)
	data, err := os.ReadFile(ts.MkAbs(args[0]))
	ts.Check(err)
	re := regexp.MustCompile(`exited: p(\d+) \(([^;]*);`)
	ms := re.FindAllSubmatch(data, -1)
	for _, m := range ms {
		if want := "exit status " + string(m[1]); string(m[2]) != want {
			ts.Fatalf("%s, want %s", m[0], want)
		}
	}
	if len(ms) < least {
		ts.Fatalf("%d exits logged, want at least %d", len(ms), least)
	}
	ts.Logf("%d exits, each with its own status", len(ms))
}

// framedlines text|json FILE PROGRAMS LINES: FILE (a container's stdout)
// holds, for each program pI (I < PROGRAMS), the lines "pI line J x..."
// for J < LINES, each whole, framed once (text: prefixed "[pI] "; json: an
// object with program "pI"), in order. Lines of the main log are skipped.
func cmdFramedLines(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 4 {
		ts.Fatalf("usage: framedlines text|json FILE PROGRAMS LINES")
	}
	programs, err := strconv.Atoi(args[2])
	ts.Check(err)
	lines, err := strconv.Atoi(args[3])
	ts.Check(err)
	data, err := os.ReadFile(ts.MkAbs(args[1]))
	ts.Check(err)
	mainLog := regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} [A-Z]{4} `)
	line := regexp.MustCompile(`^\[p(\d+)\] p(\d+) line (\d+) x+$`)
	next := make([]int, programs)
	for _, l := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		if mainLog.MatchString(l) {
			continue
		}
		if args[0] == "json" {
			var obj struct{ Time, Program, Stream, Line string }
			if err := json.Unmarshal([]byte(l), &obj); err != nil || obj.Stream != "stderr" || obj.Time == "" {
				ts.Fatalf("not a JSON line of stderr: %.200q", l)
			}
			l = "[" + obj.Program + "] " + obj.Line
		}
		m := line.FindStringSubmatch(l)
		if m == nil || m[1] != m[2] {
			ts.Fatalf("broken or mixed line %.200q", l)
		}
		p, _ := strconv.Atoi(m[1])
		i, _ := strconv.Atoi(m[3])
		if p >= programs || i != next[p] {
			ts.Fatalf("line %q out of order (expected line %d of p%d)", l, next[min(p, programs-1)], p)
		}
		next[p]++
	}
	for p, n := range next {
		if n != lines {
			ts.Fatalf("p%d: %d lines, want %d", p, n, lines)
		}
	}
}

// exitstatus N COMMAND [ARGS...]: run COMMAND (output to $WORK/exitstatus.out)
// and want exit status N.
func cmdExitStatus(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exitstatus N COMMAND [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	cmd := exec.Command(args[1], args[2:]...)
	cmd.Dir = ts.Getenv("WORK")
	cmd.Env = append(os.Environ(), "PATH="+ts.Getenv("PATH"), "WORK="+ts.Getenv("WORK"), "SOCK="+ts.Getenv("SOCK"))
	out, _ := os.Create(ts.MkAbs("exitstatus.out"))
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out
	ts.Check(cmd.Start())
	// unshare ignores SIGTERM; SIGKILL ends it and, with --kill-child, the namespace.
	stop := time.AfterFunc(time.Minute, func() { cmd.Process.Kill() })
	err = cmd.Wait()
	stop.Stop()
	got := cmd.ProcessState.ExitCode()
	if err != nil && cmd.ProcessState == nil {
		ts.Fatalf("%v", err)
	}
	if got != want {
		ts.Fatalf("%s exited %d, want %d", args[1], got, want)
	}
}
