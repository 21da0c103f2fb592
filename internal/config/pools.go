package config

import (
	"fmt"
	"github.com/drover/drover/internal/pyrepr"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// EventTypeNames are the event types a listener may subscribe to
// (Supervisor's EventTypes); abstract ones subscribe to all their subtypes.
var EventTypeNames = []string{
	"EVENT", "PROCESS_STATE", "PROCESS_STATE_STOPPED", "PROCESS_STATE_EXITED",
	"PROCESS_STATE_STARTING", "PROCESS_STATE_STOPPING", "PROCESS_STATE_BACKOFF",
	"PROCESS_STATE_FATAL", "PROCESS_STATE_RUNNING", "PROCESS_STATE_UNKNOWN",
	"PROCESS_COMMUNICATION", "PROCESS_COMMUNICATION_STDOUT", "PROCESS_COMMUNICATION_STDERR",
	"PROCESS_LOG", "PROCESS_LOG_STDOUT", "PROCESS_LOG_STDERR", "REMOTE_COMMUNICATION",
	"SUPERVISOR_STATE_CHANGE", "SUPERVISOR_STATE_CHANGE_RUNNING", "SUPERVISOR_STATE_CHANGE_STOPPING",
	"TICK", "TICK_5", "TICK_60", "TICK_3600",
	"PROCESS_GROUP", "PROCESS_GROUP_ADDED", "PROCESS_GROUP_REMOVED",
}

// DefaultResultHandler is the only result_handler Drover can honour.
const DefaultResultHandler = "supervisor.dispatchers:default_handler"

func (l *loader) listenerPool(section, name string) (*Group, error) {
	r := l.reader(section, vars{"here": l.here})
	g := &Group{Name: name, Kind: KindEventListener}
	g.Priority = read(r, "priority", "-1", pyInt)
	g.BufferSize = read(r, "buffer_size", "10", pyInt)
	if r.err == nil && g.BufferSize < 1 {
		r.fail("buffer_size", fmt.Errorf("[%s] section sets invalid buffer_size (%d)", section, g.BufferSize))
	}
	g.ResultHandler = r.str("result_handler", DefaultResultHandler)
	if r.err == nil && g.ResultHandler != DefaultResultHandler {
		r.fail("result_handler", fmt.Errorf("%s cannot be resolved within [%s]", g.ResultHandler, section))
	}
	for _, e := range parseStringList(r.str("events", "")) {
		if e = strings.ToUpper(e); !slices.Contains(g.Events, e) {
			g.Events = append(g.Events, e)
		}
	}
	if r.err == nil && len(g.Events) == 0 {
		r.fail("events", fmt.Errorf("[%s] section requires an \"events\" line", section))
	}
	for _, e := range g.Events {
		if !slices.Contains(EventTypeNames, e) {
			r.fail("events", fmt.Errorf("Unknown event type %s in [%s] events", e, section))
		}
	}
	if read(r, "redirect_stderr", "false", parseBool) {
		r.fail("redirect_stderr", fmt.Errorf("[%s] section sets redirect_stderr=true "+
			"but this is not allowed because it will interfere with the eventlistener protocol", section))
	}
	if r.err != nil {
		return nil, r.err
	}
	var err error
	if g.Processes, err = l.programSection(section, name, KindEventListener); err != nil {
		return nil, err
	}
	return g, nil
}

// tcpSocket is compiled on first use, not at every start of the binary.
var tcpSocket = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^tcp://([^\s:]+):(\d+)$`) })

func (l *loader) fcgiGroup(section, rest string) (*Group, error) {
	name, err := checkName(rest)
	if err != nil {
		return nil, l.sectionErr(section, err.Error())
	}
	r := l.reader(section, vars{"here": l.here})
	g := &Group{Name: name, Kind: KindFCGI, SocketUID: -1, SocketGID: -1}
	g.Priority = read(r, "priority", "999", pyInt)
	procUID := -1
	if r.has("user") {
		if u := read(r, "user", "", lookupUID); u != nil {
			procUID, _ = strconv.Atoi(u.Uid)
		}
	}
	if r.has("socket_backlog") {
		g.SocketBacklog = read(r, "socket_backlog", "", pyInt)
		if r.err == nil && (g.SocketBacklog < 1 || g.SocketBacklog > 65535) {
			r.fail("socket_backlog", fmt.Errorf("Invalid socket_backlog value %d", g.SocketBacklog))
		}
	}
	ownerSet, modeSet := r.has("socket_owner"), r.has("socket_mode")
	if ownerSet {
		g.SocketOwner = r.str("socket_owner", "")
		if r.err == nil {
			if g.SocketUID, g.SocketGID, err = userGroup(g.SocketOwner); err != nil {
				r.fail("socket_owner", fmt.Errorf("Invalid socket_owner value %s", g.SocketOwner))
			}
		}
	}
	if modeSet {
		mode := r.str("socket_mode", "")
		if m, err := parseOctal(mode); err != nil {
			r.fail("socket_mode", fmt.Errorf("Invalid socket_mode value %s", mode))
		} else {
			g.SocketMode = uint32(m)
		}
	}
	r.extra["program_name"] = name
	sock := r.str("socket", "")
	if r.err == nil && sock == "" {
		r.fail("socket", fmt.Errorf("[%s] section requires a \"socket\" line", section))
	}
	if r.err == nil {
		if err := g.parseSocket(sock, procUID, ownerSet, modeSet); err != nil {
			r.fail("socket", fmt.Errorf("%s in [%s] socket", err, section))
		}
	}
	if r.err != nil {
		return nil, r.err
	}
	if g.Processes, err = l.programSection(section, name, KindFCGI); err != nil {
		return nil, err
	}
	return g, nil
}

// parseSocket is Supervisor's parse_fcgi_socket. Two of its errors are
// raised with two arguments, so Python prints them as a tuple.
func (g *Group) parseSocket(sock string, procUID int, ownerSet, modeSet bool) error {
	if path, ok := strings.CutPrefix(sock, "unix://"); ok {
		if !strings.HasPrefix(path, "/") {
			return fmt.Errorf("(%s, %s)", pyrepr.Str("Unix socket path %s is not an absolute path"), pyrepr.Str(path))
		}
		g.Socket = "unix://" + normalizePath(path)
		if !ownerSet && procUID >= 0 && procUID != os.Getuid() {
			g.SocketUID = procUID
			if u, err := lookupUID(fmt.Sprint(procUID)); err == nil {
				fmt.Sscan(u.Gid, &g.SocketGID)
			}
		}
		if !modeSet {
			g.SocketMode = 0o700
		}
		return nil
	}
	if ownerSet || modeSet {
		return fmt.Errorf("socket_owner and socket_mode params should only be used with a Unix domain socket")
	}
	m := tcpSocket().FindStringSubmatch(sock)
	if m == nil {
		return fmt.Errorf("(%s, %s)", pyrepr.Str("Bad socket format %s"), pyrepr.Str(sock))
	}
	port, err := portNumber(m[2])
	if err != nil {
		return err
	}
	g.Socket = fmt.Sprintf("tcp://%s:%d", strings.ToLower(m[1]), port)
	return nil
}
