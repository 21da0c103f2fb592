package rpc

import (
	"context"
	"fmt"
	"math"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"

	"github.com/drover/drover/internal/wire"
	"github.com/drover/drover/internal/xmlrpc"
)

// method is one published XML-RPC method.
type method struct {
	result   string   // XML-RPC type of the result, for methodSignature
	params   []string // XML-RPC types of the parameters
	defaults []any    // values of trailing optional parameters
	help     string
	// anyMood: callable while the daemon is stopping (system.*,
	// sendRemoteCommEvent); everything else faults SHUTDOWN_STATE then.
	anyMood bool
	call    func(ctx context.Context, args []any) (any, error)
}

// methods returns the method table, aliases included.
func (h *handler) methods() map[string]*method {
	m := map[string]*method{}
	h.addSystemMethods(m)
	h.addStateMethods(m)
	h.addProcessMethods(m)
	h.addLogMethods(m)
	return m
}

// dispatch calls a method by its full name ("namespace.method"). A panic in
// a method becomes a *panicError: HTTP 500 for a call, a FAILED fault within
// a multicall, as Supervisor treats unexpected exceptions.
func (h *handler) dispatch(ctx context.Context, name string, params []any) (v any, err error) {
	defer func() {
		if r := recover(); r != nil {
			v, err = nil, &panicError{fmt.Sprint(r), debug.Stack()}
		}
	}()
	m, ok := h.table[name]
	if !ok {
		return nil, newFault(wire.FaultUnknownMethod)
	}
	if !m.anyMood && h.stopping() {
		return nil, newFault(wire.FaultShutdownState)
	}
	args, err := m.bind(params)
	if err != nil {
		return nil, err
	}
	return m.call(ctx, args)
}

// bind checks params against the signature, converting the lax forms Python
// would accept (base64 where a string is expected, int for a boolean), and
// fills in defaults.
func (m *method) bind(params []any) ([]any, error) {
	required := len(m.params) - len(m.defaults)
	if len(params) < required || len(params) > len(m.params) {
		return nil, newFault(wire.FaultIncorrectParameters)
	}
	args := make([]any, len(m.params))
	for i, typ := range m.params {
		if i >= len(params) {
			args[i] = m.defaults[i-required]
			continue
		}
		v, ok := convertParam(typ, params[i])
		if !ok && typ == charsParam {
			return nil, newFault(wire.FaultIncorrectParameters, fmt.Sprint(params[i]))
		}
		if !ok {
			return nil, newFault(wire.FaultIncorrectParameters)
		}
		args[i] = v
	}
	return args, nil
}

// charsParam is a string parameter whose type Supervisor checks itself
// (sendProcessStdin), naming the bad value in the fault.
const charsParam = "chars"

// signalParam is a signal, a string for methodSignature (as Supervisor
// documents it) but also taken as a number (signalArg).
const signalParam = "signal"

// signatureType is the XML-RPC type of a parameter kind.
func signatureType(typ string) string {
	if typ == charsParam || typ == signalParam {
		return "string"
	}
	return typ
}

func convertParam(typ string, v any) (any, bool) {
	switch typ {
	case "string", charsParam:
		switch x := v.(type) {
		case string:
			return x, true
		case []byte:
			return string(x), true
		}
	case "int": // the methods apply Python's int(): numeric strings pass
		switch x := v.(type) {
		case int:
			return x, true
		case bool:
			return boolInt(x), true
		case float64: // Python's int() refuses inf and nan
			return int(x), !math.IsInf(x, 0) && !math.IsNaN(x) && math.Abs(x) < math.MaxInt64
		case string:
			n, err := strconv.Atoi(strings.TrimSpace(x))
			return n, err == nil
		}
	case signalParam:
		return newSignalArg(v)
	case "boolean":
		switch x := v.(type) {
		case bool:
			return x, true
		case int:
			return x != 0, true
		case string:
			return x != "", true
		}
	default: // array, struct: taken as they come
		return v, true
	}
	return nil, false
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (h *handler) addSystemMethods(m map[string]*method) {
	m["system.listMethods"] = &method{result: "array", anyMood: true,
		help: "Return an array listing the available method names\n\n@return array result  An array of method names available (strings).",
		call: func(context.Context, []any) (any, error) {
			names := make([]string, 0, len(h.table))
			for name := range h.table {
				names = append(names, name)
			}
			slices.Sort(names)
			return names, nil
		}}
	m["system.methodHelp"] = &method{result: "string", params: []string{"string"}, anyMood: true,
		help: "Return a string showing the method's documentation\n\n@param string name   The name of the method.\n@return string result The documentation for the method name.",
		call: func(_ context.Context, args []any) (any, error) {
			target, ok := h.table[args[0].(string)]
			if !ok {
				return nil, newFault(wire.FaultSignatureUnsupported)
			}
			return target.help, nil
		}}
	m["system.methodSignature"] = &method{result: "array", params: []string{"string"}, anyMood: true,
		help: "Return an array describing the method signature in the form [rtype, ptype, ptype...]\n\n@param string name  The name of the method.\n@return array result  The result.",
		call: func(_ context.Context, args []any) (any, error) {
			target, ok := h.table[args[0].(string)]
			if !ok {
				return nil, newFault(wire.FaultSignatureUnsupported)
			}
			sig := []string{target.result}
			for _, p := range target.params {
				sig = append(sig, signatureType(p))
			}
			return sig, nil
		}}
	m["system.multicall"] = &method{result: "array", params: []string{"array"}, anyMood: true,
		help: "Process an array of calls, and return an array of results. Calls are structs {'methodName': string, 'params': array}; each result is the bare value of a call or a {'faultCode': int, 'faultString': string} struct.\n\n@param array calls  An array of call requests\n@return array result  An array of results",
		call: h.multicall}
}

// maxMulticallCalls bounds one system.multicall, whose results are held
// until all are done (Supervisor has no bound: 100,000 calls took Drover to
// 785 MB). Real clients batch a few calls per process at most.
const maxMulticallCalls = 1000

// multicall runs the calls strictly in order. Unlike the XML-RPC multicall
// convention, Supervisor returns each successful value bare.
func (h *handler) multicall(ctx context.Context, args []any) (any, error) {
	calls, ok := args[0].([]any)
	if !ok {
		return nil, newFault(wire.FaultIncorrectParameters)
	}
	if len(calls) > maxMulticallCalls {
		return nil, newFault(wire.FaultIncorrectParameters, fmt.Sprintf("%d calls in one system.multicall, at most %d", len(calls), maxMulticallCalls))
	}
	results := make([]any, 0, len(calls))
	for _, c := range calls {
		v, err := h.multicallOne(ctx, c)
		if err != nil {
			f := toFault(err, "")
			v = xmlrpc.Struct{member("faultCode", f.Code), member("faultString", f.String)}
		}
		results = append(results, v)
	}
	return results, nil
}

func (h *handler) multicallOne(ctx context.Context, c any) (any, error) {
	call, ok := c.(map[string]any)
	if !ok {
		return nil, newFault(wire.FaultFailed, fmt.Sprintf("call is %T, not a struct", c))
	}
	name, ok := call["methodName"].(string)
	if !ok {
		return nil, newFault(wire.FaultIncorrectParameters, "No methodName")
	}
	if name == "system.multicall" {
		return nil, newFault(wire.FaultIncorrectParameters, "Recursive system.multicall forbidden")
	}
	params, ok := call["params"].([]any)
	if _, present := call["params"]; present && !ok {
		return nil, newFault(wire.FaultIncorrectParameters)
	}
	return h.dispatch(ctx, name, params)
}

// panicError is a method's panic turned into an error.
type panicError struct {
	value string
	stack []byte
}

func (e *panicError) Error() string { return "panic: " + e.value }
