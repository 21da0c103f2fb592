package handover

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/eventlistener"
	"github.com/drover/drover/internal/pool"
	"github.com/drover/drover/internal/supervisor"
)

// Format is the version of the state's layout this build writes. Any
// change to State or to the types it holds (process.Snapshot included)
// that an older build would read differently bumps it: an older build
// refuses a newer format (a downgrade across a bump). A build reads the
// formats from OldestFormat to Format, as long as every newer format only
// adds what an older writer did not hand over.
//
//   - 1: processes, timers, pipes, log files, listening sockets.
//   - 2: the bytes queued for a child's stdin (process.Snapshot.StdinPending);
//     a pool's workers beyond numprocs, and its scaler's state (Pools);
//     FastCGI groups, their processes and sockets (FCGISockets).
//   - 3: event listeners (Events): the serials, the TICK clock, each pool's
//     buffer and each listener's protocol state with the event it is busy
//     with. Builds of formats 1 and 2 refused to hand event listeners over.
//   - 4: a rolling restart or update in progress (pool.Handed.Roll), the
//     workers a pool leased from the fleet (pool.Handed.Leased) and those
//     its scaler drains (pool.Handed.Draining). Builds of formats 1 to 3
//     refused to hand any of them over.
const Format = 4

// OldestFormat is the oldest format this build reads.
const OldestFormat = 1

// Environment variables of a take-over.
const (
	// EnvFD names the descriptor of the state in the new image.
	EnvFD = "DROVER_HANDOVER_FD"
	// EnvFallback marks an image exec'ed back after a failed take-over: it
	// must not fall back again.
	EnvFallback = "DROVER_HANDOVER_FALLBACK"
)

// maxStateBytes bounds what a new image reads as state.
const maxStateBytes = 64 << 20

// State is everything one image hands the next.
type State struct {
	Format int    `json:"format"`
	Build  string `json:"build"` // version.Build of the image that wrote it
	// Images counts the images this daemon process has run, the writer's
	// included: the next one is Images+1.
	Images int `json:"images"`
	// ConfigFile is the configuration file (absolute) the daemon runs with;
	// Args are its command line, to exec the new image with.
	ConfigFile string   `json:"config_file"`
	Args       []string `json:"args"`
	// PreviousExe is a descriptor of the executable of the image that wrote
	// the state, open so that a failed take-over can exec it back even
	// after the package manager replaced the file; -1 for none.
	PreviousExe int        `json:"previous_exe"`
	Processes   []Process  `json:"processes"`
	Listeners   []Listener `json:"listeners"`
	// Pools are the scalers' states; their workers are in Processes.
	Pools []pool.Handed `json:"pools,omitempty"`
	// FCGISockets are the open sockets of FastCGI groups.
	FCGISockets []FCGISocket `json:"fcgi_sockets,omitempty"`
	// Events is the event listeners' state (its pools' listener processes
	// are in Processes); nil from a build of format 1 or 2.
	Events *eventlistener.Handed `json:"events,omitempty"`

	fd int // the state's own descriptor in the receiving image
}

// Process is one handed-over process.
type Process struct {
	Group   string `json:"group"`
	Name    string `json:"name"`
	Command string `json:"command"`
	supervisor.Adopted
}

// Listener is the listening socket of one [unix_http_server] or
// [inet_http_server] section. Addr is the socket path or host:port.
type Listener struct {
	Section string `json:"section"`
	Addr    string `json:"addr"`
	FD      int    `json:"fd"`
}

// FCGISocket is the listening socket of an [fcgi-program:x] group, open
// while a process of the group holds it. Socket is the group's socket
// setting (unix:///path or tcp://host:port).
type FCGISocket struct {
	Group  string `json:"group"`
	Socket string `json:"socket"`
	FD     int    `json:"fd"`
}

// write puts st in a new memfd, close-on-exec (inherit it for an exec),
// and returns it.
func write(st *State) (*os.File, error) {
	b, err := json.Marshal(st)
	if err != nil {
		return nil, err
	}
	fd, err := unix.MemfdCreate("drover-handover", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("memfd_create: %w", err)
	}
	f := os.NewFile(uintptr(fd), "drover-handover")
	if _, err := f.Write(b); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// fdReaderAt reads a descriptor it does not own. An *os.File would close
// the descriptor once garbage collected, and the state's descriptor must
// stay open for a fallback (FallBack execs with it).
type fdReaderAt int

func (fd fdReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n := 0
	for n < len(p) {
		m, err := unix.Pread(int(fd), p[n:], off+int64(n))
		switch {
		case err == unix.EINTR:
			continue
		case err != nil:
			return n, err
		case m == 0:
			return n, io.EOF
		}
		n += m
	}
	return n, nil
}

// read decodes the state in the descriptor fd (from its start: a fallback
// reads it again) and checks its Format.
func read(fd int) (*State, error) {
	b, err := io.ReadAll(io.NewSectionReader(fdReaderAt(fd), 0, maxStateBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read the handed-over state: %w", err)
	}
	if len(b) > maxStateBytes {
		return nil, errors.New("the handed-over state is larger than 64 MiB")
	}
	var head struct {
		Format int `json:"format"`
	}
	if err := json.Unmarshal(b, &head); err != nil {
		return nil, fmt.Errorf("the handed-over state is not valid JSON: %w", err)
	}
	if head.Format < OldestFormat || head.Format > Format {
		return nil, fmt.Errorf("the running daemon hands over state format %d, this build reads formats %d to %d", head.Format, OldestFormat, Format)
	}
	st := &State{}
	if err := json.Unmarshal(b, st); err != nil {
		return nil, fmt.Errorf("the handed-over state does not decode: %w", err)
	}
	return st, nil
}

// Receive returns the state handed to this image, nil if this is no
// take-over. It removes EnvFD from the environment (the programs must not
// see it) and makes the state's descriptor close-on-exec.
func Receive() (*State, error) {
	v, ok := os.LookupEnv(EnvFD)
	if !ok {
		return nil, nil
	}
	os.Unsetenv(EnvFD)
	fd, err := strconv.Atoi(v)
	if err != nil || fd < 0 {
		return nil, fmt.Errorf("%s=%q is not a descriptor", EnvFD, v)
	}
	unix.CloseOnExec(fd)
	st, err := read(fd)
	if err != nil {
		return nil, err
	}
	st.fd = fd
	if st.PreviousExe >= 0 {
		unix.CloseOnExec(st.PreviousExe) // no program may inherit it; FallBack clears it again
	}
	return st, nil
}

// Check validates st against cfg, the configuration the new image loaded:
// every handed-over process is a program of the same group (a pool's
// spare process numbers included) with the same command, of an event
// listener group exactly when its pool was handed over, every handed-over
// socket a server section at the same address.
// Settings other than the command may differ: the new image applies them
// to the processes it adopts (a new stopsignal is used at the next stop).
// A process a rolling update handed over has yet to replace may differ in
// its command too: the new image replaces it with the group's config.
func Check(st *State, cfg *config.Config) error {
	progs := map[[2]string]*config.Process{}
	for _, g := range cfg.Groups {
		for _, p := range append(slices.Clone(g.Processes), g.Spares...) {
			progs[[2]string{g.Name, p.Name}] = p
		}
	}
	listening := map[string]bool{}
	if st.Events != nil {
		for _, hp := range st.Events.Pools {
			listening[hp.Group] = true
		}
	}
	rolls := map[string]pool.Handed{}
	for _, h := range st.Pools {
		rolls[h.Group] = h
	}
	kinds := map[string]config.GroupKind{}
	for _, g := range cfg.Groups {
		kinds[g.Name] = g.Kind
	}
	for _, p := range st.Processes {
		pc := progs[[2]string{p.Group, p.Name}]
		switch {
		case pc == nil:
			return fmt.Errorf("process %s is running but not in %s; apply the change (update, reload) before or after the upgrade", supervisor.Namespec(p.Group, p.Name), cfg.File)
		case pc.Command != p.Command && !rolls[p.Group].Replaces(p.Name):
			return fmt.Errorf("the command of %s changed in %s; apply the change (update, reload) before or after the upgrade", supervisor.Namespec(p.Group, p.Name), cfg.File)
		case listening[p.Group] != (kinds[p.Group] == config.KindEventListener):
			return fmt.Errorf("%s changed between program and event listener in %s; apply the change (update, reload) before or after the upgrade", p.Group, cfg.File)
		}
	}
	addrs := map[string]string{}
	for _, s := range cfg.UnixHTTPServers {
		addrs[s.Section] = s.File
	}
	for _, s := range cfg.InetHTTPServers {
		addrs[s.Section] = inetAddr(s)
	}
	for _, l := range st.Listeners {
		if a, ok := addrs[l.Section]; !ok || a != l.Addr {
			return fmt.Errorf("[%s] (%s) changed in %s; a changed server needs a full restart", l.Section, l.Addr, cfg.File)
		}
	}
	for _, fs := range st.FCGISockets {
		i := slices.IndexFunc(cfg.Groups, func(g *config.Group) bool { return g.Name == fs.Group })
		if i < 0 || cfg.Groups[i].Kind != config.KindFCGI || cfg.Groups[i].Socket != fs.Socket {
			return fmt.Errorf("the socket of FastCGI group %s (%s) changed in %s; apply the change (update, reload) before or after the upgrade", fs.Group, fs.Socket, cfg.File)
		}
	}
	return nil
}

// FCGISockets maps the groups of the handed-over FastCGI sockets to their
// descriptors (supervisor.Options.AdoptSockets).
func FCGISockets(st *State) map[string]int {
	m := make(map[string]int, len(st.FCGISockets))
	for _, fs := range st.FCGISockets {
		m[fs.Group] = fs.FD
	}
	return m
}

// inetAddr is the address an [inet_http_server] section listens on.
func inetAddr(s config.InetHTTPServer) string {
	return s.Host + ":" + strconv.Itoa(s.Port)
}
