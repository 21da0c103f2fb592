package rpc

import (
	"context"

	"github.com/drover/drover/internal/logs"
	"github.com/drover/drover/internal/wire"
)

// addLogMethods adds the methods that read and clear the main log and the
// process logs.
func (h *handler) addLogMethods(m map[string]*method) {
	m["supervisor.readLog"] = &method{result: "string", params: []string{"int", "int"},
		help: "Read length bytes from the main log starting at offset\n\n@param int offset         offset to start reading from.\n@param int length         number of bytes to read from the log.\n@return string result     Bytes of log",
		call: func(_ context.Context, args []any) (any, error) {
			return readLog(h.mainLogPath(), args[0].(int), args[1].(int))
		}}
	m["supervisor.readMainLog"] = m["supervisor.readLog"]
	m["supervisor.clearLog"] = &method{result: "boolean",
		help: "Clear the main log.\n\n@return boolean result always returns True unless error",
		call: func(context.Context, []any) (any, error) {
			path := h.mainLogPath()
			if h.mainLog == nil || path == "" {
				return nil, toFault(logs.ErrNoFile, "")
			}
			if err := h.mainLog.Clear(); err != nil {
				return nil, toFault(err, path)
			}
			return true, nil
		}}

	for _, ch := range []struct{ name, alias string }{{"Stdout", "readProcessLog"}, {"Stderr", ""}} {
		read := &method{result: "string", params: []string{"string", "int", "int"},
			help: "Read length bytes from name's " + ch.name + " log starting at offset\n\n@param string name        the name of the process (or 'group:name')\n@param int offset         offset to start reading from.\n@param int length         number of bytes to read from the log.\n@return string result     Bytes of log",
			call: func(_ context.Context, args []any) (any, error) {
				p, err := h.lookupOne(args[0].(string))
				if err != nil {
					return nil, err
				}
				return readLog(logFile(p, ch.name), args[1].(int), args[2].(int))
			}}
		m["supervisor.readProcess"+ch.name+"Log"] = read
		tail := &method{result: "array", params: []string{"string", "int", "int"},
			help: "Provides a more efficient way to tail the (" + ch.name + ") log than readProcess" + ch.name + "Log().\n\nRequests (length) bytes from the (name)'s log, starting at (offset). If the total log size is greater than (offset + length), the overflow flag is set and the (offset) is automatically increased to position the buffer at the end of the log. If less than (length) bytes are available, the maximum number of available bytes will be returned. (offset) returned is always the last offset in the log +1.\n\n@param string name         the name of the process (or 'group:name')\n@param int offset          offset to start reading from\n@param int length          maximum number of bytes to return\n@return array result       [string bytes, int offset, bool overflow]",
			call: func(_ context.Context, args []any) (any, error) {
				p, err := h.lookupOne(args[0].(string))
				if err != nil {
					return nil, err
				}
				path := logFile(p, ch.name)
				if path == "" {
					return []any{"", 0, false}, nil
				}
				data, size, overflow, err := logs.Tail(path, int64(args[1].(int)), int64(args[2].(int)))
				if err != nil {
					return nil, toFault(err, path)
				}
				return []any{string(data), size, overflow}, nil
			}}
		m["supervisor.tailProcess"+ch.name+"Log"] = tail
		if ch.alias != "" {
			m["supervisor."+ch.alias] = read
			m["supervisor.tailProcessLog"] = tail
		}
	}

	m["supervisor.clearProcessLogs"] = &method{result: "boolean", params: []string{"string"},
		help: "Clear the stdout and stderr logs for the named process and reopen them.\n\n@param string name   The name of the process (or 'group:name')\n@return boolean result      Always True unless error",
		call: func(_ context.Context, args []any) (any, error) {
			name := args[0].(string)
			p, err := h.lookupOne(name)
			if err != nil {
				return nil, err
			}
			if err := clearLogs(p); err != nil {
				return nil, err
			}
			return true, nil
		}}
	m["supervisor.clearProcessLog"] = m["supervisor.clearProcessLogs"]
	m["supervisor.clearAllProcessLogs"] = &method{result: "array",
		help: "Clear all process log files\n\n@return array result   An array of process status info structs",
		call: func(context.Context, []any) (any, error) {
			results := []any{}
			for _, p := range h.b.ProcessesByPriority() {
				results = append(results, resultStruct(p, clearLogs(p)))
			}
			return results, nil
		}}
}

// clearLogs clears a process's logs; any failure is "FAILED: <namespec>".
func clearLogs(p proc) error {
	if err := p.ClearLogs(); err != nil {
		return newFault(wire.FaultFailed, p.Namespec())
	}
	return nil
}

func (h *handler) mainLogPath() string {
	if h.mainLog == nil {
		return ""
	}
	return h.mainLog.Path()
}

// logFile is the path of a process log for reading it.
func logFile(p proc, channel string) string {
	if channel == "Stdout" {
		return p.StdoutLogFile()
	}
	return p.StderrLogFile()
}

// readLog reads a log with readLog's offset/length rules; a NONE log (empty
// path) is "NO_FILE", a missing one "NO_FILE: <path>".
func readLog(path string, offset, length int) (any, error) {
	if path == "" {
		return nil, toFault(logs.ErrNoFile, "")
	}
	data, err := logs.Read(path, int64(offset), int64(length))
	if err != nil {
		return nil, toFault(err, path)
	}
	return string(data), nil
}
