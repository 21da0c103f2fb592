package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/drover/drover/internal/client"
)

// defaultWait bounds every polling command; real processes may be slow on a
// loaded CI machine, so it is generous.
const defaultWait = 15 * time.Second

// rpcCall calls method on the daemon at $RPCURL (an http:// URL) or else
// on the unix socket $SOCK, as $RPCAUTH ("user:password") when set.
func rpcCall(ts *testscript.TestScript, method string, params ...any) (any, error) {
	url := ts.Getenv("RPCURL")
	if url == "" {
		url = "unix://" + ts.Getenv("SOCK")
	}
	user, pass, _ := strings.Cut(ts.Getenv("RPCAUTH"), ":")
	c := client.New(url, user, pass)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return c.Call(ctx, method, params...)
}

// waitArg parses an optional timeout argument ("10s").
func waitArg(ts *testscript.TestScript, args []string, i int) time.Duration {
	if len(args) <= i {
		return defaultWait
	}
	d, err := time.ParseDuration(args[i])
	ts.Check(err)
	return d
}

// poll calls try until it reports done or the deadline passes.
func poll(ts *testscript.TestScript, wait time.Duration, what string, try func() (bool, string)) {
	deadline := time.Now().Add(wait)
	last := ""
	for {
		done, state := try()
		if done {
			return
		}
		last = state
		if time.Now().After(deadline) {
			ts.Fatalf("%s: still not there after %v (last: %s)", what, wait, last)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// processInfo returns getProcessInfo(namespec) as a map.
func processInfo(ts *testscript.TestScript, namespec string) (map[string]any, error) {
	v, err := rpcCall(ts, "supervisor.getProcessInfo", namespec)
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("getProcessInfo returned %T", v)
	}
	return m, nil
}

// waitstate <namespec> <STATE> [timeout]: poll getProcessInfo until the
// process is in STATE.
func cmdWaitState(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 || len(args) > 3 {
		ts.Fatalf("usage: waitstate namespec STATE [timeout]")
	}
	poll(ts, waitArg(ts, args, 2), "waitstate "+args[0]+" "+args[1], func() (bool, string) {
		info, err := processInfo(ts, args[0])
		if err != nil {
			return false, err.Error()
		}
		state := fmt.Sprint(info["statename"])
		return state == args[1], state
	})
}

// waitnewpid <namespec> OLDPID [timeout]: wait until the process is RUNNING
// again with a pid other than OLDPID (it was restarted).
func cmdWaitNewPID(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 || len(args) > 3 {
		ts.Fatalf("usage: waitnewpid namespec OLDPID [timeout]")
	}
	poll(ts, waitArg(ts, args, 2), "waitnewpid "+args[0], func() (bool, string) {
		info, err := processInfo(ts, args[0])
		if err != nil {
			return false, err.Error()
		}
		state, pid := fmt.Sprint(info["statename"]), fmt.Sprint(info["pid"])
		return state == "RUNNING" && pid != args[1], state + " pid " + pid
	})
}

// savepid <namespec|supervisord> VAR: set $VAR to the pid of a process, or
// of the daemon itself.
func cmdSavePID(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: savepid namespec|supervisord VAR")
	}
	var pid any
	if args[0] == "supervisord" {
		v, err := rpcCall(ts, "supervisor.getPID")
		ts.Check(err)
		pid = v
	} else {
		info, err := processInfo(ts, args[0])
		ts.Check(err)
		pid = info["pid"]
	}
	s := fmt.Sprint(pid)
	if s == "0" {
		ts.Fatalf("%s has no pid", args[0])
	}
	ts.Setenv(args[1], s)
}

var signalsByName = map[string]syscall.Signal{
	"TERM": syscall.SIGTERM, "INT": syscall.SIGINT, "QUIT": syscall.SIGQUIT, "HUP": syscall.SIGHUP,
	"USR1": syscall.SIGUSR1, "USR2": syscall.SIGUSR2, "KILL": syscall.SIGKILL,
}

// sigpid SIGNAL PID: send a signal (TERM, HUP, USR2, KILL, ...) to a pid.
func cmdSigPID(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: sigpid SIGNAL PID")
	}
	sig, ok := signalsByName[strings.TrimPrefix(args[0], "SIG")]
	if !ok {
		ts.Fatalf("unknown signal %s", args[0])
	}
	pid, err := strconv.Atoi(args[1])
	ts.Check(err)
	ts.Check(syscall.Kill(pid, sig))
}

// waitgone PID [timeout]: wait until the process is gone (or a zombie
// nobody reaped yet: it runs no code any more).
func cmdWaitGone(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 || len(args) > 2 {
		ts.Fatalf("usage: waitgone PID [timeout]")
	}
	pid, err := strconv.Atoi(args[0])
	ts.Check(err)
	poll(ts, waitArg(ts, args, 1), "waitgone "+args[0], func() (bool, string) {
		return !alive(pid), "alive"
	})
}

// alive reports whether pid exists and is not a zombie.
func alive(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the parenthesised command name.
	i := bytes.LastIndexByte(stat, ')')
	return i < 0 || i+2 >= len(stat) || stat[i+2] != 'Z'
}

// waitfile PATH [timeout]: wait until PATH exists (with !, until it does
// not). PATH may be a glob (an AUTO log's random name): until a file
// matches it.
func cmdWaitFile(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 1 || len(args) > 2 {
		ts.Fatalf("usage: [!] waitfile PATH [timeout]")
	}
	path := ts.MkAbs(args[0])
	poll(ts, waitArg(ts, args, 1), "waitfile "+args[0], func() (bool, string) {
		found, err := filepath.Glob(path)
		return (len(found) > 0) != neg, fmt.Sprint(found, err)
	})
}

// stalesocket PATH: leave a unix socket file nobody listens on, as a killed
// daemon does.
func cmdStaleSocket(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: stalesocket PATH")
	}
	fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	ts.Check(err)
	defer syscall.Close(fd)
	ts.Check(syscall.Bind(fd, &syscall.SockaddrUnix{Name: ts.MkAbs(args[0])}))
}

// notifysocket FILE: listen for sd_notify datagrams on a fresh socket, set
// $NOTIFY_SOCKET to it for later commands, and append each datagram as a
// line to FILE.
func cmdNotifySocket(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: notifysocket FILE")
	}
	addr := filepath.Join(filepath.Dir(ts.Getenv("SOCK")), "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: addr, Net: "unixgram"})
	ts.Check(err)
	out, err := os.Create(ts.MkAbs(args[0]))
	ts.Check(err)
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 4096)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				return // closed by the Defer below
			}
			out.Write(append(buf[:n:n], '\n'))
		}
	}()
	ts.Defer(func() {
		conn.Close()
		<-done
		out.Close()
	})
	ts.Setenv("NOTIFY_SOCKET", addr)
}

// waitmatch PATTERN FILE [timeout]: wait until FILE has a line matching the
// regular expression PATTERN (a log line written by a running daemon).
func cmdWaitMatch(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 || len(args) > 3 {
		ts.Fatalf("usage: waitmatch PATTERN FILE [timeout]")
	}
	re, err := regexp.Compile("(?m)" + args[0])
	ts.Check(err)
	path := ts.MkAbs(args[1])
	poll(ts, waitArg(ts, args, 2), "waitmatch "+args[0], func() (bool, string) {
		data, err := os.ReadFile(path)
		return err == nil && re.Match(data), "no match"
	})
}

// freeport VAR: set $VAR to a TCP port on 127.0.0.1 that is free now.
func cmdFreePort(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: freeport VAR")
	}
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	ts.Check(err)
	port := ln.Addr().(*net.TCPAddr).Port
	ts.Check(ln.Close())
	ts.Setenv(args[0], strconv.Itoa(port))
}

// installbin DIR NAME: copy the test binary (the drover entry point) to
// DIR/NAME, world-executable, so that commands run as another user (whose
// view of testscript's private $PATH directory is blocked) can use it.
func cmdInstallBin(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: installbin DIR NAME")
	}
	self, err := os.Executable()
	ts.Check(err)
	data, err := os.ReadFile(self)
	ts.Check(err)
	ts.Check(os.WriteFile(filepath.Join(ts.MkAbs(args[0]), args[1]), data, 0o755))
}
