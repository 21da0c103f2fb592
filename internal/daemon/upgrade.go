package daemon

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/guard"
	"github.com/drover/drover/internal/handover"
	"github.com/drover/drover/internal/logs"
	"github.com/drover/drover/internal/supervisor"
	"github.com/drover/drover/internal/version"
)

// upgrader runs the in-place upgrade (package handover) of one instance:
// it owns the instance's HTTP servers, which it stops while it hands their
// sockets over, and restarts if the upgrade does not happen.
type upgrader struct {
	handover.Upgrade
	cfg      *config.Config
	ml       *logs.MainLog
	handlers []http.Handler

	// mu is held from an accepted upgrade until it failed (when it
	// succeeds this image is gone), and by shutdownServers.
	mu        sync.Mutex
	listeners []*listener
	servers   *httpServers

	failure atomic.Pointer[string] // see Failure
}

// serve starts the servers on the listeners.
func (u *upgrader) serve() {
	u.servers = serve(u.listeners, u.handlers, defaultHTTPLimits())
}

// shutdownServers stops the servers for good (the instance ends).
func (u *upgrader) shutdownServers() {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.servers.shutdown()
}

// Start checks the binary now on disk with a dry run and, if it would take
// over, switches to it in the background (the caller's answer must get out
// before the servers stop). It returns the new binary's build.
func (u *upgrader) Start() (newBuild string, err error) {
	if !u.mu.TryLock() {
		return "", fmt.Errorf("%w: an upgrade is in progress", supervisor.ErrUpgradeRefused)
	}
	if u.Exe == "" {
		u.mu.Unlock()
		return "", fmt.Errorf("%w: the path of this daemon's executable is unknown", supervisor.ErrUpgradeRefused)
	}
	err = u.Supervisor.CheckFreezable()
	if err == nil {
		newBuild, err = u.Check(u.socketRecords())
	}
	if err != nil {
		u.mu.Unlock()
		u.ml.Logf(config.LevelError, "upgrade refused, running on: %v", err)
		return "", err
	}
	u.ml.Logf(config.LevelInfo, "upgrade from drover %s to drover %s (%s): the dry run passed", version.Build, newBuild, u.Exe)
	u.failure.Store(nil)
	guard.Go("upgrade", u.switchOver)
	return newBuild, nil
}

// socketRecords describes the listening sockets for the state, without
// descriptors.
func (u *upgrader) socketRecords() []handover.Listener {
	addrs := map[string]string{}
	for _, s := range u.cfg.UnixHTTPServers {
		addrs[s.Section] = s.File
	}
	for _, s := range u.cfg.InetHTTPServers {
		addrs[s.Section] = s.Host + ":" + strconv.Itoa(s.Port)
	}
	recs := make([]handover.Listener, len(u.listeners))
	for i, l := range u.listeners {
		recs[i] = handover.Listener{Section: l.Section, Addr: addrs[l.Section], FD: -1}
	}
	return recs
}

// filer is a listener whose socket can be duplicated (*net.UnixListener,
// *net.TCPListener).
type filer interface{ File() (*os.File, error) }

// switchOver hands the sockets and processes to the new image. Connections
// that arrive meanwhile wait in the sockets' backlogs for the new image to
// accept them. If the exec does not happen (execve itself failed, or the
// freeze refused), this image serves again, on the same sockets, and
// Failure says why.
func (u *upgrader) switchOver() {
	defer u.mu.Unlock()
	recs := u.socketRecords()
	files := make([]*os.File, len(u.listeners))
	defer func() {
		for _, f := range files {
			if f != nil {
				f.Close()
			}
		}
	}()
	for i, l := range u.listeners {
		fl, ok := l.Listener.(filer)
		if !ok {
			u.fail(fmt.Errorf("the socket of [%s] cannot be handed over", l.Section))
			return
		}
		f, err := fl.File() // close-on-exec until the runners are frozen (Exec)
		if err != nil {
			u.fail(fmt.Errorf("the socket of [%s]: %w", l.Section, err))
			return
		}
		files[i], recs[i].FD = f, int(f.Fd())
	}
	// In-flight requests (the upgrade's own answer) finish first; the
	// sockets stay open through files.
	u.servers.shutdown()
	u.ml.Logf(config.LevelInfo, "upgrading: executing %s, handing over the processes and %d socket(s)", u.Exe, len(recs))
	// Set before the servers answer again: a client polling for the new
	// image learns at its first answer that there will be none.
	u.fail(u.Exec(recs))
	for i, f := range files {
		ln, lerr := net.FileListener(f)
		if lerr != nil {
			u.ml.Logf(config.LevelCritical, "upgrade failed and the socket of [%s] is lost: %v", u.listeners[i].Section, lerr)
			continue
		}
		u.listeners[i].Listener = ln
	}
	u.serve()
}

// fail records why the upgrade under way did not happen, for Failure and
// the main log.
func (u *upgrader) fail(err error) {
	reason := err.Error()
	u.failure.Store(&reason)
	u.ml.Logf(config.LevelError, "upgrade failed, running on: %s", reason)
}

// Failure is why the last upgrade start accepted did not happen, "" if it
// did not fail: drover.getVersion says it to the client of the upgrade,
// whose answer left before the switch.
func (u *upgrader) Failure() string {
	if p := u.failure.Load(); p != nil {
		return *p
	}
	return ""
}

// takeOverSockets maps the sections of the handed-over sockets to their
// descriptors.
func takeOverSockets(st *handover.State) map[string]int {
	if st == nil {
		return nil
	}
	m := map[string]int{}
	for _, l := range st.Listeners {
		m[l.Section] = l.FD
	}
	return m
}

// inheritedListener returns the listener on the descriptor handed over
// for section, nil (and no error) if none was.
func inheritedListener(inherited map[string]int, section string) (net.Listener, error) {
	fd, ok := inherited[section]
	if !ok {
		return nil, nil
	}
	f := os.NewFile(uintptr(fd), section)
	defer f.Close() // FileListener has its own duplicate
	ln, err := net.FileListener(f)
	if err != nil {
		return nil, fmt.Errorf("Cannot take over the socket of [%s]: %v", section, err)
	}
	if ul, ok := ln.(*net.UnixListener); ok {
		ul.SetUnlinkOnClose(false) // Drover, not the listener, decides when the socket file goes away
	}
	return ln, nil
}

// takeOver starts the image an upgrade exec'ed: it validates the state and
// the configuration before adopting anything, and on failure execs the
// previous image back (handover.FallBack), which takes the processes again.
func (d *daemon) takeOver(st *handover.State) int {
	cfg, err := config.Load(st.ConfigFile, d.overrides)
	if err == nil {
		err = handover.Validate(st, cfg)
	}
	if err != nil {
		ferr := handover.FallBack(st, err)
		// Still here: this process ends, and its children get their
		// parent-death signal (stopsignal) from the kernel.
		fmt.Fprintf(d.stderr, "Error: take-over failed: %v; no fallback: %v\n", err, ferr)
		return 2
	}
	d.takeover = st
	d.fallback = handover.FallbackReason()
	d.images = st.Images + 1
	if d.fallback != "" {
		d.images++ // the image that gave up counts
	}
	return d.run(cfg)
}

// logTakeOver says in the main log which image took over from which.
func (d *daemon) logTakeOver(st *handover.State, ml *logs.MainLog) {
	if d.fallback != "" {
		ml.Logf(config.LevelCritical, "upgrade failed: the new image gave up the take-over: %s; drover %s took its %d process(es) back",
			d.fallback, version.Build, len(st.Processes))
		return
	}
	ml.Logf(config.LevelInfo, "drover %s took over from drover %s: %d process(es) and %d socket(s) adopted, pid %d",
		version.Build, st.Build, len(st.Processes), len(st.Listeners), os.Getpid())
}
