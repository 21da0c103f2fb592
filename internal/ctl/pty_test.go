package ctl

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
)

// TestMain lets the test binary act as supervisorctl for the pseudo-terminal
// tests: with DROVER_CTL_HELPER=1 it runs Main on its arguments. Otherwise
// it builds Drover's daemon for the golden scripts (or takes the one named
// by $DROVER_CTL_TEST_DAEMON).
func TestMain(m *testing.M) {
	if os.Getenv("DROVER_CTL_HELPER") == "1" {
		os.Exit(Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	droverServer.bin = os.Getenv("DROVER_CTL_TEST_DAEMON")
	if droverServer.bin != "" {
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "drvbin")
	if err == nil {
		droverServer.bin, err = buildDrover(dir)
	}
	if err != nil {
		os.RemoveAll(dir)
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// startOnPTY runs the client as a child process on a pseudo-terminal and
// collects what it prints.
func startOnPTY(t *testing.T, args ...string) (*os.File, *watchedBuffer, func() int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "DROVER_CTL_HELPER=1", "TERM=xterm")
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 200})
	if err != nil {
		t.Fatal(err)
	}
	out := newWatchedBuffer()
	copied := make(chan struct{})
	go func() { io.Copy(out, tty); close(copied) }()
	exited := make(chan int, 1)
	go func() {
		cmd.Wait()
		exited <- cmd.ProcessState.ExitCode()
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		tty.Close()
	})
	return tty, out, func() int {
		select {
		case code := <-exited:
			return code
		case <-time.After(20 * time.Second):
			t.Fatalf("interactive client did not exit; output:\n%s", out.String())
			return -1
		}
	}
}

func TestShellOnTerminal(t *testing.T) {
	t.Parallel()
	forEachServer(t, testShellOnTerminal)
}

func testShellOnTerminal(t *testing.T, d *daemon) {
	history := filepath.Join(d.dir, "history")
	tty, out, wait := startOnPTY(t, "-s", d.url, "-r", history)
	// Type each line only once the prompt is back after the previous
	// output, as a person does: keys typed while a command runs reach the
	// terminal in cooked mode, where Ctrl-D is the line discipline's EOF.
	out.waitForAfter(t, "worker:worker_01", "supervisor> ")
	io.WriteString(tty, "status cat\r")
	out.waitForAfter(t, "cat                              RUNNING   pid ", "supervisor> ")
	io.WriteString(tty, "bogus line\r")
	out.waitForAfter(t, "*** Unknown syntax: bogus line", "supervisor> ")
	io.WriteString(tty, "help help\r")
	out.waitForAfter(t, "help <action>\tPrint help for <action>", "supervisor> ")
	io.WriteString(tty, "\x04") // Ctrl-D
	if code := wait(); code != 0 {
		t.Errorf("exit %d, want 0", code)
	}
	data, err := os.ReadFile(history)
	if err != nil || !strings.Contains(string(data), "status cat\n") || !strings.Contains(string(data), "bogus line\n") {
		t.Errorf("history file %s = %q, %v; want the typed commands", history, data, err)
	}
}

func TestShellOnTerminalCtrlC(t *testing.T) {
	t.Parallel()
	forEachServer(t, testShellOnTerminalCtrlC)
}

func testShellOnTerminalCtrlC(t *testing.T, d *daemon) {
	tty, out, wait := startOnPTY(t, "-s", d.url)
	out.waitFor(t, "supervisor> ")
	io.WriteString(tty, "tail -f ticker\r")
	out.waitFor(t, "==> Press Ctrl-C to exit <==\r\ntick\r\n")
	io.WriteString(tty, "\x03") // Ctrl-C ends tail -f, not the shell
	io.WriteString(tty, "version\r")
	// Once the prompt is back, Ctrl-C goes to the line editor.
	out.waitFor(t, "\r\n4.2.5\r\n\x1b[J\x1b[2K\rsupervisor> ")
	io.WriteString(tty, "\x03") // Ctrl-C at the prompt leaves the shell
	if code := wait(); code != 0 {
		t.Errorf("exit %d, want 0", code)
	}
}
