package ctl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"

	"github.com/drover/drover/internal/client"
	"github.com/drover/drover/internal/pyrepr"
	"github.com/drover/drover/internal/wire"
)

// logError maps a log-reading fault to Supervisor's "(...)" reason; ok is
// false for faults it does not handle.
func logError(err error, withBadName bool) (string, bool) {
	switch client.FaultCode(err) {
	case wire.FaultNoFile:
		return "no log file", true
	case wire.FaultFailed:
		return "unknown error reading log", true
	case wire.FaultBadName:
		return "no such process name", withBadName
	}
	return "", false
}

func (c *controller) doTail(arg string) error {
	if ok, err := c.upcheck(); !ok {
		return err
	}
	args := strings.Fields(arg)
	if len(args) < 1 || len(args) > 3 {
		c.output("Error: too %s arguments", map[bool]string{true: "few", false: "many"}[len(args) < 1])
		c.exitStatus = exitGeneric
		c.printHelp("tail")
		return nil
	}
	modifier := ""
	if strings.HasPrefix(args[0], "-") {
		modifier, args = args[0], args[1:]
	}
	name, channel := "", "stdout"
	switch len(args) {
	case 0:
		c.output("Error: tail requires process name")
		c.exitStatus = exitGeneric
		return nil
	case 1:
		name = args[0]
	default:
		name, channel = args[0], strings.ToLower(args[len(args)-1])
		if channel != "stdout" && channel != "stderr" {
			c.output("Error: bad channel %s", pyrepr.Str(channel))
			c.exitStatus = exitGeneric
			return nil
		}
	}
	size := 1600
	if modifier == "-f" {
		return c.tailFollow(fmt.Sprintf("/logtail/%s/%s", name, channel))
	}
	if modifier != "" {
		n, err := parsePyInt(modifier[1:])
		if err != nil {
			c.output("Error: bad argument %s", modifier)
			c.exitStatus = exitGeneric
			return nil
		}
		size = n
	}
	text, err := c.cl.ReadProcessLog(c.ctx, name, channel, -size, 0)
	if err != nil {
		c.exitStatus = exitGeneric
		reason, ok := logError(err, true)
		if !ok {
			return err
		}
		c.output("%s: ERROR (%s)", name, reason)
		return nil
	}
	c.output("%s", text)
	return nil
}

// parsePyInt parses like Python's int(): surrounding spaces, a sign and
// underscores between digits are allowed.
func parsePyInt(s string) (int, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "__") || strings.HasPrefix(strings.TrimLeft(s, "+-"), "_") || strings.HasSuffix(s, "_") {
		return 0, strconv.ErrSyntax
	}
	return strconv.Atoi(strings.ReplaceAll(s, "_", ""))
}

func (c *controller) doMaintail(arg string) error {
	if ok, err := c.upcheck(); !ok {
		return err
	}
	args := strings.Fields(arg)
	size := 1600
	switch {
	case len(args) > 1:
		c.output("Error: too many arguments")
		c.exitStatus = exitGeneric
		c.printHelp("maintail")
		return nil
	case len(args) == 1 && args[0] == "-f":
		return c.tailFollow("/mainlogtail")
	case len(args) == 1:
		n, err := parsePyInt(strings.TrimPrefix(args[0], "-"))
		if !strings.HasPrefix(args[0], "-") || err != nil {
			c.output("Error: bad argument %s", args[0])
			c.exitStatus = exitGeneric
			return nil
		}
		size = n
	}
	text, err := c.cl.ReadLog(c.ctx, -size, 0)
	if err != nil {
		c.exitStatus = exitGeneric
		reason, ok := logError(err, false)
		if !ok {
			return err
		}
		c.output("supervisord: ERROR (%s)", reason)
		return nil
	}
	c.output("%s", text)
	return nil
}

// tailFollow streams an HTTP log tail to stdout until the server ends it
// or the user interrupts (Ctrl-C), after which it prints an empty line.
func (c *controller) tailFollow(path string) error {
	c.output("==> Press Ctrl-C to exit <==")
	ctx, stop := c.interrupt(c.ctx)
	defer stop()
	err := c.streamLog(ctx, path)
	if ctx.Err() != nil && c.ctx.Err() == nil {
		c.output("")
	} else if err != nil {
		c.reportStreamError(path, err)
	}
	return nil
}

func (c *controller) streamLog(ctx context.Context, path string) error {
	return c.cl.Stream(ctx, path, c.out)
}

// reportStreamError prints a failed log stream like Supervisor's
// asynchronous HTTP client does: on stderr, prefixed with the URL.
func (c *controller) reportStreamError(path string, err error) {
	var he *client.HTTPError
	switch {
	case errors.As(err, &he):
		fmt.Fprintf(c.errOut, "%s%s Cannot read, status code %d\n", c.cl.URL(), path, he.Code)
	case isRefused(err):
		fmt.Fprintf(c.errOut, "%s%s Cannot connect, error: <class 'ConnectionRefusedError'> ([Errno 111] Connection refused)\n", c.cl.URL(), path)
	case isNoSocket(err):
		fmt.Fprintf(c.errOut, "%s%s Cannot connect, error: <class 'FileNotFoundError'> ([Errno 2] No such file or directory)\n", c.cl.URL(), path)
	default:
		fmt.Fprintf(c.errOut, "%s%s Cannot connect, error: %v\n", c.cl.URL(), path, err)
	}
}

func (c *controller) doFg(arg string) error {
	if ok, err := c.upcheck(); !ok {
		return err
	}
	names := strings.Fields(arg)
	switch {
	case len(names) == 0:
		c.output("ERROR: no process name supplied")
		c.exitStatus = exitGeneric
		c.printHelp("fg")
		return nil
	case len(names) > 1:
		c.output("ERROR: too many process names supplied")
		c.exitStatus = exitGeneric
		return nil
	}
	name := names[0]
	running, err := c.processRunning(name)
	if client.FaultCode(err) == wire.FaultBadName {
		c.output("ERROR: bad process name supplied")
		c.exitStatus = exitGeneric
		return nil
	}
	if err != nil {
		if client.FaultCode(err) == 0 {
			return err
		}
		c.output("ERROR: %s", pyFaultStr(err))
		return nil
	}
	if !running {
		c.output("ERROR: process not running")
		c.exitStatus = exitGeneric
		return nil
	}
	c.output("==> Press Ctrl-C to exit <==")
	ctx, stop := c.interrupt(c.ctx)
	defer stop()
	streams, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	out := &lockedWriter{w: c.out}
	defer func(w, e io.Writer) { c.out, c.errOut = w, e }(c.out, c.errOut)
	c.out, c.errOut = out, &lockedWriter{w: c.errOut} // the log streams and this loop print concurrently
	for _, channel := range []string{"stdout", "stderr"} {
		wg.Go(func() {
			path := fmt.Sprintf("/logtail/%s/%s", name, channel)
			if err := c.cl.Stream(streams, path, out); err != nil && streams.Err() == nil {
				c.reportStreamError(path, err)
			}
		})
	}
	defer wg.Wait()
	defer cancel()
	for {
		line, err := c.term.ReadLine(ctx, "")
		if err != nil {
			c.output("Exiting foreground")
			return nil
		}
		_, err = c.cl.Call(c.ctx, "supervisor.sendProcessStdin", name, line+"\n")
		if err != nil {
			if client.FaultCode(err) == wire.FaultNotRunning {
				c.output("Process got killed")
			} else {
				c.output("ERROR: %s", pyFaultStr(err))
			}
			c.output("Exiting foreground")
			return nil
		}
		if running, err = c.processRunning(name); err != nil {
			return err
		}
		if !running {
			c.output("Process got killed")
			c.output("Exiting foreground")
			return nil
		}
	}
}

func (c *controller) processRunning(name string) (bool, error) {
	info, err := c.cl.ProcessInfo(c.ctx, name)
	return info.State == wire.ProcessRunning, err
}

// pyFaultStr is str() of a Python xmlrpc Fault.
func pyFaultStr(err error) string {
	if client.FaultCode(err) == 0 {
		return err.Error()
	}
	return fmt.Sprintf("<Fault %d: %s>", client.FaultCode(err), pyrepr.Str(client.FaultString(err)))
}

// lockedWriter serialises writes from the two fg log streams.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
