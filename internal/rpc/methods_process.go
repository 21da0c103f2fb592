package rpc

import (
	"context"
	"math"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/guard"
	"github.com/drover/drover/internal/process"
	"github.com/drover/drover/internal/supervisor"
	"github.com/drover/drover/internal/wire"
	"github.com/drover/drover/internal/xmlrpc"
)

// addProcessMethods adds the methods that start, stop, signal and inspect
// processes.
func (h *handler) addProcessMethods(m map[string]*method) {
	m["supervisor.getProcessInfo"] = &method{result: "struct", params: []string{"string"},
		help: "Get info about a process named name\n\n@param string name The name of the process (or 'group:name')\n@return struct result     A structure containing data about the process",
		call: func(_ context.Context, args []any) (any, error) {
			p, err := h.lookupOne(args[0].(string))
			if err != nil {
				return nil, err
			}
			return processInfo{p.Info(), timeNow()}, nil
		}}
	m["supervisor.getAllProcessInfo"] = &method{result: "array",
		help: "Get info about all processes\n\n@return array result  An array of process status results",
		call: func(context.Context, []any) (any, error) {
			return takeAllProcessInfo(h.b.AllProcesses(), timeNow()), nil
		}}

	m["supervisor.startProcess"] = &method{result: "boolean", params: []string{"string", "boolean"}, defaults: []any{true},
		help: "Start a process\n\n@param string name Process name (or ``group:name``, or ``group:*``)\n@param boolean wait Wait for process to be fully started\n@return boolean result     Always true unless error",
		call: func(ctx context.Context, args []any) (any, error) {
			return h.single(ctx, args[0].(string), args[1].(bool), startOp)
		}}
	m["supervisor.startProcessGroup"] = &method{result: "array", params: []string{"string", "boolean"}, defaults: []any{true},
		help: "Start all processes in the group named 'name'\n\n@param string name     The group name\n@param boolean wait    Wait for each process to be fully started\n@return array result   An array of process status info structs",
		call: func(ctx context.Context, args []any) (any, error) {
			return h.group(ctx, args[0].(string), args[1].(bool), startOp)
		}}
	m["supervisor.startAllProcesses"] = &method{result: "array", params: []string{"boolean"}, defaults: []any{true},
		help: "Start all processes listed in the configuration file\n\n@param boolean wait    Wait for each process to be fully started\n@return array result   An array of process status info structs",
		call: func(ctx context.Context, args []any) (any, error) {
			return runAll(ctx, h.b.ProcessesByPriority(), args[0].(bool), startOp)
		}}
	m["supervisor.stopProcess"] = &method{result: "boolean", params: []string{"string", "boolean"}, defaults: []any{true},
		help: "Stop a process named by name\n\n@param string name  The name of the process to stop (or 'group:name')\n@param boolean wait        Wait for the process to be fully stopped\n@return boolean result     Always return True unless error",
		call: func(ctx context.Context, args []any) (any, error) {
			return h.single(ctx, args[0].(string), args[1].(bool), stopOp)
		}}
	m["supervisor.stopProcessGroup"] = &method{result: "array", params: []string{"string", "boolean"}, defaults: []any{true},
		help: "Stop all processes in the process group named 'name'\n\n@param string name     The group name\n@param boolean wait    Wait for each process to be fully stopped\n@return array result   An array of process status info structs",
		call: func(ctx context.Context, args []any) (any, error) {
			return h.group(ctx, args[0].(string), args[1].(bool), stopOp)
		}}
	m["supervisor.stopAllProcesses"] = &method{result: "array", params: []string{"boolean"}, defaults: []any{true},
		help: "Stop all processes in the process list\n\n@param  boolean wait   Wait for each process to be fully stopped\n@return array result   An array of process status info structs",
		call: func(ctx context.Context, args []any) (any, error) {
			return runAll(ctx, h.b.ProcessesByPriority(), args[0].(bool), stopOp)
		}}
	m["supervisor.signalProcess"] = &method{result: "boolean", params: []string{"string", signalParam},
		help: "Send an arbitrary UNIX signal to the process named by name\n\n@param string name    Name of the process to signal (or 'group:name')\n@param string signal  Signal to send, as name ('HUP') or number ('1')\n@return boolean",
		call: func(ctx context.Context, args []any) (any, error) {
			return h.single(ctx, args[0].(string), false, signalOp(args[1].(signalArg)))
		}}
	m["supervisor.signalProcessGroup"] = &method{result: "array", params: []string{"string", signalParam},
		help: "Send a signal to all processes in the group named 'name'\n\n@param string name    The group name\n@param string signal  Signal to send, as name ('HUP') or number ('1')\n@return array",
		call: func(ctx context.Context, args []any) (any, error) {
			return h.group(ctx, args[0].(string), false, signalOp(args[1].(signalArg)))
		}}
	// Supervisor signals first and only then notices a shutdown.
	m["supervisor.signalAllProcesses"] = &method{result: "array", params: []string{signalParam}, anyMood: true,
		help: "Send a signal to all processes in the process list\n\n@param string signal  Signal to send, as name ('HUP') or number ('1')\n@return array         An array of process status info structs",
		call: func(ctx context.Context, args []any) (any, error) {
			results, err := runAll(ctx, h.b.ProcessesByPriority(), false, signalOp(args[0].(signalArg)))
			if err == nil && h.stopping() {
				return nil, newFault(wire.FaultShutdownState)
			}
			return results, err
		}}

	m["supervisor.sendProcessStdin"] = &method{result: "boolean", params: []string{"string", charsParam},
		help: "Send a string of chars to the stdin of the process name. If non-7-bit data is sent (unicode), it is encoded to utf-8 before being sent to the process' stdin.\n\n@param string name        The process name to send to (or 'group:name')\n@param string chars       The character data to send to the process\n@return boolean result    Always return True unless error",
		call: func(_ context.Context, args []any) (any, error) {
			name := args[0].(string)
			p, err := h.lookupOne(name)
			if err != nil {
				return nil, err
			}
			if err := p.WriteStdin([]byte(args[1].(string))); err != nil {
				return nil, toFault(err, name)
			}
			return true, nil
		}}
}

func (h *handler) stopping() bool { return h.b.Mood() != supervisor.MoodRunning }

// lookupOne resolves a namespec that must name exactly one process.
func (h *handler) lookupOne(name string) (proc, error) {
	ps, wildcard, err := h.b.Lookup(name)
	if err != nil || wildcard || len(ps) != 1 {
		return nil, newFault(wire.FaultBadName, name)
	}
	return ps[0], nil
}

// processOp is one of the per-process operations of the group and "all"
// methods: applies says whether it concerns a process in that state.
type processOp struct {
	applies func(process.State) bool
	run     func(ctx context.Context, p proc, wait bool) error
}

var (
	startOp = processOp{
		applies: func(s process.State) bool { return !s.IsRunning() },
		run:     func(ctx context.Context, p proc, wait bool) error { return p.Start(ctx, wait) },
	}
	stopOp = processOp{
		applies: process.State.IsRunning,
		run:     func(ctx context.Context, p proc, wait bool) error { return p.Stop(ctx, wait) },
	}
)

// signalArg is the signal parameter of the signal methods, which Supervisor
// reads with int() first and as a name only if that fails: a name or number
// in a string, or an int, bool or float (truncated, as int() does).
type signalArg struct {
	value string // what config.ParseSignal reads
	text  string // Python's str() of the parameter, for BAD_SIGNAL
}

// newSignalArg converts an XML-RPC value; ok is false for the types int()
// and str.strip() both refuse (array, struct).
func newSignalArg(v any) (signalArg, bool) {
	switch x := v.(type) {
	case string:
		return signalArg{x, x}, true
	case []byte:
		return signalArg{string(x), string(x)}, true
	case int:
		n := strconv.Itoa(x)
		return signalArg{n, n}, true
	case bool:
		if x {
			return signalArg{"1", "True"}, true
		}
		return signalArg{"0", "False"}, true
	case float64:
		text := xmlrpc.FormatDouble(x)
		if math.Abs(x) < 1<<53 {
			return signalArg{strconv.FormatFloat(math.Trunc(x), 'f', 0, 64), text}, true
		}
		// Far beyond any signal number (or inf, nan): refused by its text.
		return signalArg{text, text}, true
	}
	return signalArg{}, false
}

func signalOp(signal signalArg) processOp {
	return processOp{
		applies: process.State.IsSignallable,
		run: func(_ context.Context, p proc, _ bool) error {
			sig, err := config.ParseSignal(signal.value)
			if err != nil {
				return newFault(wire.FaultBadSignal, signal.text)
			}
			return p.Signal(sig)
		},
	}
}

// single runs op on the process called name; "group:*" runs it on the group
// (and so returns result structs, as Supervisor does).
func (h *handler) single(ctx context.Context, name string, wait bool, op processOp) (any, error) {
	ps, wildcard, err := h.b.Lookup(name)
	if err != nil {
		return nil, newFault(wire.FaultBadName, name)
	}
	if wildcard {
		return runAll(ctx, ps, wait, op)
	}
	if err := op.run(ctx, ps[0], wait); err != nil {
		return nil, toFault(err, name)
	}
	return true, nil
}

func (h *handler) group(ctx context.Context, name string, wait bool, op processOp) (any, error) {
	if !h.b.HasGroup(name) {
		return nil, newFault(wire.FaultBadName, name)
	}
	ps, _, err := h.b.Lookup(name + ":*")
	if err != nil {
		return nil, newFault(wire.FaultBadName, name)
	}
	return runAll(ctx, ps, wait, op)
}

// batchWindow is how long runAll keeps gathering deferred results that
// complete together; Supervisor polls its deferred callbacks every 50 ms,
// so results within one poll are ties.
const batchWindow = 50 * time.Millisecond

// outcome is the result of op on ps[index].
type outcome struct {
	index int
	err   error
}

// runAll runs op on every process of ps it applies to and returns one
// result struct per such process, in Supervisor's order: it starts the
// operations one at a time in the order of ps (so spawns and kills happen
// in that order), and the answers that come at once (failures before a
// spawn, starts without wait or with startsecs=0, signals) are the first
// results, in that order; then the deferred ones (waits for RUNNING or a
// stopped state) in completion order, ties in the order of ps.
func runAll(ctx context.Context, ps []proc, wait bool, op processOp) ([]any, error) {
	r := &resultOrder{ps: ps, done: make(chan outcome, len(ps)), results: []any{}}
	for i, p := range ps {
		if !op.applies(p.Info().State) {
			continue
		}
		if err := r.start(ctx, i, func(ctx context.Context) error { return op.run(ctx, p, wait) }); err != nil {
			return nil, err
		}
	}
	if err := r.gatherDeferred(ctx); err != nil {
		return nil, err
	}
	return r.results, nil
}

// resultOrder collects the outcomes of one runAll.
type resultOrder struct {
	ps       []proc
	done     chan outcome
	results  []any
	early    []outcome // deferred ones that completed while others started
	deferred int       // operations that went deferred
}

// start runs the operation on ps[i] and waits until it either answered
// (an immediate result) or went deferred.
func (r *resultOrder) start(ctx context.Context, i int, run func(context.Context) error) error {
	wentDeferred := make(chan struct{})
	var once sync.Once
	octx := process.WithDeferredNotice(ctx, func() { once.Do(func() { close(wentDeferred) }) })
	go func() {
		o := outcome{index: i}
		if p := guard.Run("XML-RPC call on "+r.ps[i].Namespec(), func() { o.err = run(octx) }); p != nil {
			o.err = p
		}
		r.done <- o
	}()
	for {
		select {
		case <-wentDeferred:
			r.deferred++
			return nil
		case o := <-r.done:
			if o.index != i {
				r.early = append(r.early, o)
				continue
			}
			select {
			case <-wentDeferred: // deferred, and already done
				r.deferred++
				r.early = append(r.early, o)
			default:
				r.results = append(r.results, resultStruct(r.ps[i], o.err))
			}
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// gatherDeferred adds the deferred results in batches of batchWindow,
// each in the order of ps.
func (r *resultOrder) gatherDeferred(ctx context.Context) error {
	for got := 0; got < r.deferred; {
		batch := r.early
		r.early = nil
		if len(batch) == 0 {
			select {
			case o := <-r.done:
				batch = append(batch, o)
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		timer := time.NewTimer(batchWindow)
	gather:
		for got+len(batch) < r.deferred {
			select {
			case o := <-r.done:
				batch = append(batch, o)
			case <-timer.C:
				break gather
			case <-ctx.Done():
				timer.Stop()
				return ctx.Err()
			}
		}
		timer.Stop()
		slices.SortFunc(batch, func(a, b outcome) int { return a.index - b.index })
		for _, o := range batch {
			r.results = append(r.results, resultStruct(r.ps[o.index], o.err))
		}
		got += len(batch)
	}
	return nil
}

// resultStruct is Supervisor's per-process result of a group operation.
func resultStruct(p proc, err error) xmlrpc.Struct {
	cfg := p.Config()
	status, desc := wire.FaultSuccess, "OK"
	if err != nil {
		f := toFault(err, p.Namespec())
		status, desc = f.Code, f.String
	}
	return xmlrpc.Struct{member("name", cfg.Name), member("group", cfg.Group), member("status", status), member("description", desc)}
}
