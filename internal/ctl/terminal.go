package ctl

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/chzyer/readline"
)

// errInterrupted is returned by a terminal read cut short by Ctrl-C.
var errInterrupted = errors.New("interrupted")

// lineTerm reads plain lines (stdin is not a terminal): prompts go to out,
// and a read can be abandoned when its context ends, so Ctrl-C is honoured
// even while blocked on a pipe.
type lineTerm struct {
	out    io.Writer
	errOut io.Writer // where Python's getpass prompts without a terminal
	in     *bufio.Reader
	once   sync.Once
	lines  chan lineResult
}

type lineResult struct {
	line string
	err  error
}

func newLineTerm(in io.Reader, out, errOut io.Writer) *lineTerm {
	return &lineTerm{out: out, errOut: errOut, in: bufio.NewReader(in), lines: make(chan lineResult)}
}

// pump delivers input lines one at a time, as they are asked for, and
// closes the channel at the end of input.
func (t *lineTerm) pump() {
	defer close(t.lines)
	for {
		line, err := t.in.ReadString('\n')
		if line != "" {
			err = nil
		}
		t.lines <- lineResult{strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r"), err}
		if err != nil {
			return
		}
	}
}

func (t *lineTerm) ReadLine(ctx context.Context, prompt string) (string, error) {
	return t.read(ctx, t.out, prompt)
}

func (t *lineTerm) read(ctx context.Context, promptOut io.Writer, prompt string) (string, error) {
	io.WriteString(promptOut, prompt)
	t.once.Do(func() { go t.pump() })
	select {
	case r, ok := <-t.lines:
		if !ok {
			return "", io.EOF
		}
		return r.line, r.err
	case <-ctx.Done():
		return "", errInterrupted
	}
}

// ReadPassword cannot hide input on a pipe; like getpass it says so and
// prompts on stderr.
func (t *lineTerm) ReadPassword(prompt string) (string, error) {
	io.WriteString(t.errOut, "Warning: Password input may be echoed.\n")
	return t.read(context.Background(), t.errOut, prompt)
}

// readlineTerm is an interactive terminal with line editing and history.
type readlineTerm struct {
	rl *readline.Instance
}

func newReadlineTerm(stdin *os.File, stdout, stderr io.Writer, historyFile string, complete readline.AutoCompleter) (*readlineTerm, error) {
	rl, err := readline.NewEx(&readline.Config{
		HistoryFile:            historyFile,
		DisableAutoSaveHistory: true,
		AutoComplete:           complete,
		Stdin:                  stdin,
		Stdout:                 stdout,
		Stderr:                 stderr,
	})
	if err != nil {
		return nil, err
	}
	return &readlineTerm{rl: rl}, nil
}

func (t *readlineTerm) ReadLine(_ context.Context, prompt string) (string, error) {
	t.rl.SetPrompt(prompt)
	line, err := t.rl.Readline()
	if errors.Is(err, readline.ErrInterrupt) {
		return "", errInterrupted
	}
	return line, err
}

// ReadCommand reads a shell command line and records it in the history.
func (t *readlineTerm) ReadCommand(ctx context.Context, prompt string) (string, error) {
	line, err := t.ReadLine(ctx, prompt)
	if err == nil && strings.TrimSpace(line) != "" {
		t.rl.SaveHistory(line)
	}
	return line, err
}

func (t *readlineTerm) ReadPassword(prompt string) (string, error) {
	b, err := t.rl.ReadPassword(prompt)
	if errors.Is(err, readline.ErrInterrupt) {
		return "", errInterrupted
	}
	return string(b), err
}

func (t *readlineTerm) Close() error { return t.rl.Close() }

func helpTopicsSet() map[string]bool {
	set := map[string]bool{"help": true}
	for name := range helpTexts {
		set[name] = true
	}
	return set
}
