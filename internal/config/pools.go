package config

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
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
	here := vars{"here": l.here}
	g := &Group{Name: name, Kind: KindEventListener}
	var err error
	if g.Priority, err = convert(l, section, "priority", "-1", here, pyInt); err != nil {
		return nil, err
	}
	if g.BufferSize, err = convert(l, section, "buffer_size", "10", here, pyInt); err != nil {
		return nil, err
	}
	if g.BufferSize < 1 {
		v, _ := l.ini.get(section, "buffer_size")
		return nil, l.errAt(v, section, "buffer_size", fmt.Errorf("[%s] section sets invalid buffer_size (%d)", section, g.BufferSize))
	}
	handler, hv, err := l.value(section, "result_handler", DefaultResultHandler, here)
	if err != nil {
		return nil, err
	}
	if handler != DefaultResultHandler {
		return nil, l.errAt(hv, section, "result_handler", fmt.Errorf("%s cannot be resolved within [%s]", handler, section))
	}
	g.ResultHandler = handler
	events, ev, err := l.value(section, "events", "", here)
	if err != nil {
		return nil, err
	}
	for _, e := range parseStringList(events) {
		e = strings.ToUpper(e)
		if !slices.Contains(g.Events, e) {
			g.Events = append(g.Events, e)
		}
	}
	if len(g.Events) == 0 {
		return nil, l.errAt(ev, section, "events", fmt.Errorf("[%s] section requires an \"events\" line", section))
	}
	for _, e := range g.Events {
		if !slices.Contains(EventTypeNames, e) {
			return nil, l.errAt(ev, section, "events", fmt.Errorf("Unknown event type %s in [%s] events", e, section))
		}
	}
	redirect, err := convert(l, section, "redirect_stderr", "false", here, parseBool)
	if err != nil {
		return nil, err
	}
	if redirect {
		v, _ := l.ini.get(section, "redirect_stderr")
		return nil, l.errAt(v, section, "redirect_stderr", fmt.Errorf("[%s] section sets redirect_stderr=true "+
			"but this is not allowed because it will interfere with the eventlistener protocol", section))
	}
	if g.Processes, err = l.programSection(section, name, KindEventListener); err != nil {
		return nil, err
	}
	return g, nil
}

var tcpSocket = regexp.MustCompile(`^tcp://([^\s:]+):(\d+)$`)

func (l *loader) fcgiGroup(section, rest string) (*Group, error) {
	name, err := checkName(rest)
	if err != nil {
		return nil, l.sectionErr(section, err.Error())
	}
	here := vars{"here": l.here}
	g := &Group{Name: name, Kind: KindFCGI, SocketUID: -1, SocketGID: -1}
	if g.Priority, err = convert(l, section, "priority", "999", here, pyInt); err != nil {
		return nil, err
	}
	procUID := -1
	if user, uv, err := l.value(section, "user", "", here); err != nil {
		return nil, err
	} else if uv != nil {
		u, err := lookupUID(user)
		if err != nil {
			return nil, l.errAt(uv, section, "user", err)
		}
		fmt.Sscan(u.Uid, &procUID)
	}
	if _, ok := l.ini.get(section, "socket_backlog"); ok {
		if g.SocketBacklog, err = convert(l, section, "socket_backlog", "", here, pyInt); err != nil {
			return nil, err
		}
		if g.SocketBacklog < 1 || g.SocketBacklog > 65535 {
			v, _ := l.ini.get(section, "socket_backlog")
			return nil, l.errAt(v, section, "socket_backlog", fmt.Errorf("Invalid socket_backlog value %d", g.SocketBacklog))
		}
	}
	owner, ov, err := l.value(section, "socket_owner", "", here)
	if err != nil {
		return nil, err
	}
	if ov != nil {
		if g.SocketUID, g.SocketGID, err = userGroup(owner); err != nil {
			return nil, l.errAt(ov, section, "socket_owner", fmt.Errorf("Invalid socket_owner value %s", owner))
		}
		g.SocketOwner = owner
	}
	mode, mv, err := l.value(section, "socket_mode", "", here)
	if err != nil {
		return nil, err
	}
	if mv != nil {
		m, err := parseOctal(mode)
		if err != nil {
			return nil, l.errAt(mv, section, "socket_mode", fmt.Errorf("Invalid socket_mode value %s", mode))
		}
		g.SocketMode = uint32(m)
	}
	sock, sv, err := l.value(section, "socket", "", vars{"program_name": name, "here": l.here})
	if err != nil {
		return nil, err
	}
	if sock == "" {
		return nil, l.errAt(sv, section, "socket", fmt.Errorf("[%s] section requires a \"socket\" line", section))
	}
	if err := g.parseSocket(sock, procUID, ov != nil, mv != nil); err != nil {
		return nil, l.errAt(sv, section, "socket", fmt.Errorf("%s in [%s] socket", err, section))
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
			return fmt.Errorf("(%s, %s)", pyRepr("Unix socket path %s is not an absolute path"), pyRepr(path))
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
	m := tcpSocket.FindStringSubmatch(sock)
	if m == nil {
		return fmt.Errorf("(%s, %s)", pyRepr("Bad socket format %s"), pyRepr(sock))
	}
	port, err := portNumber(m[2])
	if err != nil {
		return err
	}
	g.Socket = fmt.Sprintf("tcp://%s:%d", strings.ToLower(m[1]), port)
	return nil
}
