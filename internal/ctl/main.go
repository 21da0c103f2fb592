package ctl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"

	"github.com/chzyer/readline"

	"github.com/drover/drover/internal/client"
)

// Invocation is one run of the client.
type Invocation struct {
	// Prog is argv[0]: shown in "For help, use <Prog> -h" and the -h text,
	// and the base of the config file search.
	Prog   string
	Args   []string // command-line arguments without argv[0]
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Interrupts, if not nil, replaces SIGINT as the source of Ctrl-C
	// (tests); each value received acts like one Ctrl-C.
	Interrupts <-chan os.Signal
}

// Main runs supervisorctl with args (argv without argv[0]) and returns the
// process exit status. The program name is os.Args[0].
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return Run(context.Background(), Invocation{Prog: os.Args[0], Args: args, Stdin: stdin, Stdout: stdout, Stderr: stderr})
}

// Run is Main with every input explicit.
func Run(ctx context.Context, inv Invocation) int {
	s, err := parseSettings(inv.Prog, inv.Args)
	var ue *usageError
	switch {
	case errors.Is(err, errHelp):
		io.WriteString(inv.Stdout, strings.ReplaceAll(usageText, "%s", inv.Prog))
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(inv.Stderr, "Error: %s\nFor help, use %s -h\n", ue.msg, inv.Prog)
		return exitInvalidArgs
	case err != nil:
		fmt.Fprintf(inv.Stderr, "Error: %v\n", err)
		return exitInvalidArgs
	}
	router := newInterruptRouter(inv.Interrupts)
	defer router.close()
	c := &controller{
		ctx: ctx, s: s, cl: client.New(s.serverURL, s.username, s.password),
		out: inv.Stdout, errOut: inv.Stderr, interrupt: router.push,
		interactive: s.interactive,
	}
	if len(s.args) > 0 {
		c.term = newLineTerm(inv.Stdin, inv.Stdout, inv.Stderr)
		c.onecmd(strings.Join(s.args, " "))
		return c.exitStatus
	}
	c.shell(inv.Stdin, inv.Stderr)
	return 0 // the interactive shell always exits 0
}

// shell is the interactive loop: status first, then prompt until
// quit/exit/EOF or Ctrl-C.
func (c *controller) shell(stdin io.Reader, stderr io.Writer) {
	base := c.ctx
	ctx, stop := c.interrupt(base)
	defer stop()
	c.ctx = ctx
	read := func(ctx context.Context, prompt string) (string, error) { return c.term.ReadLine(ctx, prompt) }
	if f, ok := stdin.(*os.File); ok && readline.IsTerminal(int(f.Fd())) {
		complete := &completer{c: c}
		rt, err := newReadlineTerm(f, c.out, stderr, c.s.historyFile, complete)
		if err == nil {
			defer rt.Close()
			c.term = rt
			read = func(ctx context.Context, prompt string) (string, error) {
				complete.forget()
				return rt.ReadCommand(ctx, prompt)
			}
		}
	}
	if c.term == nil {
		c.term = newLineTerm(stdin, c.out, stderr)
	}
	line := "status"
	for {
		if c.onecmd(line) == errQuit || ctx.Err() != nil {
			break
		}
		var err error
		line, err = read(ctx, c.s.prompt+"> ")
		if errors.Is(err, io.EOF) {
			line = "EOF"
		} else if err != nil {
			c.output("") // Ctrl-C at the prompt ends the shell
			return
		}
	}
	if ctx.Err() != nil && base.Err() == nil {
		c.output("")
	}
}

// interruptRouter delivers each Ctrl-C to the innermost waiting operation
// (a tail -f inside the shell, else the shell itself). While nothing is
// registered SIGINT keeps its default effect.
type interruptRouter struct {
	mu      sync.Mutex
	done    chan struct{}
	source  <-chan os.Signal
	own     chan os.Signal // non-nil when listening to real SIGINT
	cancels []context.CancelFunc
}

func newInterruptRouter(source <-chan os.Signal) *interruptRouter {
	r := &interruptRouter{source: source, done: make(chan struct{})}
	if source == nil {
		r.own = make(chan os.Signal, 1)
		r.source = r.own
	}
	go r.run()
	return r
}

func (r *interruptRouter) run() {
	for {
		select {
		case <-r.source:
		case <-r.done:
			return
		}
		r.mu.Lock()
		if n := len(r.cancels); n > 0 {
			r.cancels[n-1]()
		}
		r.mu.Unlock()
	}
}

func (r *interruptRouter) close() { close(r.done) }

// push returns a context cancelled by the next Ctrl-C while it is the
// innermost one; stop unregisters it.
func (r *interruptRouter) push(parent context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(parent)
	r.mu.Lock()
	r.cancels = append(r.cancels, cancel)
	if r.own != nil && len(r.cancels) == 1 {
		signal.Notify(r.own, os.Interrupt)
	}
	idx := len(r.cancels) - 1
	r.mu.Unlock()
	return ctx, func() {
		cancel()
		r.mu.Lock()
		r.cancels = r.cancels[:idx]
		if r.own != nil && idx == 0 {
			signal.Stop(r.own)
		}
		r.mu.Unlock()
	}
}
