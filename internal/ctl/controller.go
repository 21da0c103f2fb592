package ctl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"

	"github.com/drover/drover/internal/client"
	"github.com/drover/drover/internal/pyrepr"
	"github.com/drover/drover/internal/version"
	"github.com/drover/drover/internal/wire"
)

// Exit statuses (LSB init script codes, as supervisorctl uses them).
const (
	exitGeneric           = 1
	exitInvalidArgs       = 2
	exitUnimplemented     = 3
	exitInsufficientPrivs = 4
	exitNotInstalled      = 5
	exitNotRunning        = 7
	exitStatusNotRunning  = 3 // status only
	exitStatusUnknown     = 4 // status only
)

// controller runs supervisorctl command lines against one server.
type controller struct {
	ctx         context.Context
	s           *settings
	cl          *client.Client
	out         io.Writer
	errOut      io.Writer
	term        terminal // line input for prompts, confirmations and fg
	interrupt   func(context.Context) (context.Context, context.CancelFunc)
	exitStatus  int
	interactive bool
}

// terminal reads lines from the user.
type terminal interface {
	// ReadLine shows prompt and returns one line without its newline;
	// io.EOF at end of input, an error on Ctrl-C or when ctx ends.
	ReadLine(ctx context.Context, prompt string) (string, error)
	// ReadPassword is ReadLine without echo where possible.
	ReadPassword(prompt string) (string, error)
}

func (c *controller) output(format string, a ...any) {
	if len(a) == 0 {
		io.WriteString(c.out, format+"\n")
		return
	}
	fmt.Fprintf(c.out, format+"\n", a...)
}

// setExitFromFault applies Supervisor's fault→exit-status rule.
func (c *controller) setExitFromFault(code, ignored int) {
	switch code {
	case ignored, wire.FaultSuccess:
	case wire.FaultSpawnError, wire.FaultAbnormalTermination, wire.FaultNotRunning:
		c.exitStatus = exitNotRunning
	default:
		c.exitStatus = exitGeneric
	}
}

// command is one do_<name> handler; an error it returns is an unexpected
// failure, printed as Supervisor prints a Python traceback.
type command func(c *controller, arg string) error

var commands map[string]command

func init() {
	commands = map[string]command{
		"status": (*controller).doStatus, "start": (*controller).doStart,
		"stop": (*controller).doStop, "restart": (*controller).doRestart,
		"signal": (*controller).doSignal, "pid": (*controller).doPid,
		"clear": (*controller).doClear, "tail": (*controller).doTail,
		"maintail": (*controller).doMaintail, "fg": (*controller).doFg,
		"avail": (*controller).doAvail, "reread": (*controller).doReread,
		"update": (*controller).doUpdate, "add": (*controller).doAdd,
		"remove": (*controller).doRemove, "reload": (*controller).doReload,
		"shutdown": (*controller).doShutdown, "version": (*controller).doVersion,
		"open": (*controller).doOpen, "help": (*controller).doHelp,
		"quit": (*controller).doQuit, "exit": (*controller).doQuit,
		"EOF": (*controller).doQuit,
	}
	addDroverCommands(commands)
}

// errQuit ends the interactive loop.
var errQuit = errors.New("quit")

// parseLine splits a line like Python's cmd.Cmd.parseline: a leading '?'
// means help, the command is the leading run of identifier characters.
func parseLine(line string) (cmd, arg string) {
	line = strings.TrimSpace(line)
	if strings.HasPrefix(line, "?") {
		line = "help " + line[1:]
	}
	i := 0
	for i < len(line) && isIdentChar(line[i]) {
		i++
	}
	return line[:i], strings.TrimSpace(line[i:])
}

func isIdentChar(c byte) bool {
	return isAlpha(c) || c >= '0' && c <= '9' || c == '_'
}

// onecmd runs one command line; it returns errQuit for quit/exit/EOF.
func (c *controller) onecmd(line string) error {
	cmd, arg := parseLine(line)
	trimmed := strings.TrimSpace(line)
	if trimmed == "" {
		return nil
	}
	do, ok := commands[cmd]
	if cmd == "" || !ok {
		c.output("*** Unknown syntax: %s", trimmed)
		c.exitStatus = exitGeneric
		return nil
	}
	err := do(c, arg)
	if isUnauthorized(err) {
		c.output("Server requires authentication")
		if !c.interactive {
			c.exitStatus = exitGeneric
			// Supervisor runs the command a second time here and prints the
			// second failure as a traceback.
			err = do(c, arg)
		} else if err = c.askCredentials(); err == nil {
			return c.onecmd(line)
		}
	}
	if err == errQuit {
		return err
	}
	if err != nil && c.ctx.Err() != nil {
		return nil // interrupted: the shell reports it
	}
	if err != nil {
		c.output("%s", tracebackLine(err, c.cl.URL()))
		c.exitStatus = exitGeneric
	}
	return nil
}

// askCredentials prompts for a username and password after a 401.
func (c *controller) askCredentials() error {
	user, err := c.term.ReadLine(c.ctx, "Username:")
	if err != nil {
		return eofError(err, 212)
	}
	pass, err := c.term.ReadPassword("Password:")
	if errors.Is(err, io.EOF) {
		return &pyError{class: "EOFError", where: "/usr/lib/python3.11/getpass.py line: 148"}
	}
	if err != nil {
		return err
	}
	c.output("")
	c.s.username, c.s.password = user, pass
	c.cl = client.New(c.s.serverURL, user, pass)
	return nil
}

// tracebackLine renders an unexpected error the way supervisorctl prints a
// Python exception (its class, value, and the file/line CPython reports).
func tracebackLine(err error, serverURL string) string {
	var f *client.Fault
	var pe *client.HTTPError
	var pe2 *pyError
	var urlErr *client.URLError
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &f):
		return fmt.Sprintf("error: <class 'xmlrpc.client.Fault'>, <Fault %d: %s>: file: /usr/lib/python3.11/xmlrpc/client.py line: 668", f.Code, pyrepr.Str(f.String))
	case errors.As(err, &pe):
		return fmt.Sprintf("error: <class 'xmlrpc.client.ProtocolError'>, <ProtocolError for 127.0.0.1/RPC2: %d %s>: file: /usr/lib/python3/dist-packages/supervisor/xmlrpc.py line: 539", pe.Code, pe.Reason)
	case isRefused(err) && strings.HasPrefix(serverURL, "unix://"):
		return "error: <class 'ConnectionRefusedError'>, [Errno 111] Connection refused: file: " + pySupervisor + "xmlrpc.py line: 557"
	case isRefused(err):
		return "error: <class 'ConnectionRefusedError'>, [Errno 111] Connection refused: file: /usr/lib/python3.11/socket.py line: 836"
	case errors.As(err, &dnsErr):
		// This one is capitalised in Supervisor's output too.
		return "Error: <class 'socket.gaierror'>, [Errno -2] Name or service not known: file: /usr/lib/python3.11/socket.py line: 962"
	case isNoSocket(err):
		return "error: <class 'FileNotFoundError'>, [Errno 2] No such file or directory: file: /usr/lib/python3/dist-packages/supervisor/xmlrpc.py line: 557"
	case errors.As(err, &urlErr):
		return fmt.Sprintf("error: <class 'ValueError'>, %s: file: %sxmlrpc.py line: 505", urlErr, pySupervisor)
	case errors.As(err, &pe2):
		return fmt.Sprintf("error: <class '%s'>, %s: file: %s", pe2.class, pe2.value, pe2.where)
	}
	return fmt.Sprintf("error: <class 'OSError'>, %v: file: /usr/lib/python3.11/socket.py line: 836", err)
}

// rpc calls a method whose result is of no interest beyond success.
func (c *controller) rpc(method string, params ...any) error {
	_, err := c.cl.Call(c.ctx, method, params...)
	return err
}

// upcheck verifies the server speaks API 3.0, printing Supervisor's
// messages and setting the exit status when it does not.
func (c *controller) upcheck() (bool, error) {
	api, err := c.cl.APIVersion(c.ctx)
	switch {
	case err == nil:
		if api != version.API {
			c.output("Sorry, this version of supervisorctl expects to talk to a server with API version %s, but the remote version is %s.", version.API, api)
			c.exitStatus = exitNotInstalled
			return false, nil
		}
		return true, nil
	case client.FaultCode(err) == wire.FaultUnknownMethod:
		c.output("Sorry, supervisord responded but did not recognize the supervisor namespace commands that supervisorctl uses to control it.  Please check that the [rpcinterface:supervisor] section is enabled in the configuration file (see sample.conf).")
		c.exitStatus = exitUnimplemented
		return false, nil
	case isRefused(err):
		c.output("%s refused connection", c.cl.URL())
		c.exitStatus = exitInsufficientPrivs
		return false, nil
	case isNoSocket(err):
		c.output("%s no such file", c.cl.URL())
		c.exitStatus = exitNotRunning
		return false, nil
	}
	c.exitStatus = exitGeneric
	return false, err
}

func isUnauthorized(err error) bool {
	var he *client.HTTPError
	return errors.As(err, &he) && he.Code == http.StatusUnauthorized
}

func isRefused(err error) bool  { return errors.Is(err, syscall.ECONNREFUSED) }
func isNoSocket(err error) bool { return errors.Is(err, syscall.ENOENT) }

// pySupervisor is where Debian installs Supervisor's Python modules.
const pySupervisor = "/usr/lib/python3/dist-packages/supervisor/"

// pyError is a failure Supervisor reports as a Python exception raised in
// supervisorctl.py itself (e.g. an unexpected result code).
type pyError struct {
	class string
	value string
	where string // "<file> line: <n>" of the Python frame that raised
}

func (e *pyError) Error() string { return e.value }
