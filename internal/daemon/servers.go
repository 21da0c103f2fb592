package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/user"
	"strconv"
	"syscall"
	"time"

	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/guard"
	"github.com/drover/drover/internal/sysnames"
)

// errAddrInUse is Supervisor's message when a server's address is taken.
var errAddrInUse = errors.New("Another program is already listening on a port that one of our HTTP servers is configured to use.  Shut this program down first before starting supervisord.")

// staleSocketDelay is how long Supervisor waits after unlinking a stale socket.
const staleSocketDelay = 300 * time.Millisecond

// listener is the open socket of one [unix_http_server] or [inet_http_server]
// section.
type listener struct {
	Section  string
	Username string
	Password string
	net.Listener
	// socketFile is the unix socket path this instance created and must
	// unlink when it closes ("" for inet servers).
	socketFile string
}

// openListeners opens every configured server in file order, unix servers
// first (Supervisor's order). On error the ones already open are closed.
// Errors carry Supervisor's usage texts. stderr receives the
// "Unlinking stale socket" notes.
func openListeners(cfg *config.Config, stderr io.Writer) ([]*listener, error) {
	return openListenersInheriting(cfg, stderr, nil)
}

// openListenersInheriting is openListeners taking the sockets of the
// sections in inherited (section name → descriptor) as they are, already
// listening: those an upgrade handed over.
func openListenersInheriting(cfg *config.Config, stderr io.Writer, inherited map[string]int) ([]*listener, error) {
	var out []*listener
	fail := func(err error) ([]*listener, error) {
		closeListeners(out)
		return nil, err
	}
	for _, s := range cfg.UnixHTTPServers {
		ln, err := inheritedListener(inherited, s.Section)
		if ln == nil && err == nil {
			ln, err = listenUnix(s, stderr)
		}
		if err != nil {
			return fail(err)
		}
		out = append(out, &listener{Section: s.Section, Username: s.Username, Password: s.Password,
			Listener: ln, socketFile: s.File})
	}
	for _, s := range cfg.InetHTTPServers {
		ln, err := inheritedListener(inherited, s.Section)
		if ln == nil && err == nil {
			// AF_INET, as Supervisor: "localhost" means 127.0.0.1, "" every IPv4 address.
			if ln, err = net.Listen("tcp4", net.JoinHostPort(s.Host, strconv.Itoa(s.Port))); err != nil {
				err = socketError(err)
			}
		}
		if err != nil {
			return fail(err)
		}
		out = append(out, &listener{Section: s.Section, Username: s.Username, Password: s.Password, Listener: ln})
	}
	return out, nil
}

// closeListeners closes every listener and unlinks the socket files this
// instance created.
func closeListeners(ls []*listener) {
	for _, l := range ls {
		l.Close()
		if l.socketFile != "" {
			os.Remove(l.socketFile)
		}
	}
}

// listenUnix creates a unix socket the way Supervisor does, so that two
// instances never steal each other's socket: bind "<file>.<pid>", chmod it,
// then hard-link it to <file>. When the link exists already, a socket that
// answers means another server owns it (errAddrInUse); one that does not is
// stale: it is reported on stderr, unlinked, and the link retried.
func listenUnix(s config.UnixHTTPServer, stderr io.Writer) (net.Listener, error) {
	temp := fmt.Sprintf("%s.%d", s.File, os.Getpid())
	os.Remove(temp)
	defer os.Remove(temp)
	for {
		ln, err := net.Listen("unix", temp)
		if err != nil {
			return nil, socketError(err)
		}
		// Drover, not the listener, decides when the socket file goes away.
		ln.(*net.UnixListener).SetUnlinkOnClose(false)
		if err := os.Chmod(temp, os.FileMode(s.Chmod)); err != nil {
			ln.Close()
			return nil, socketError(err)
		}
		err = os.Link(temp, s.File)
		if err == nil {
			if err := chownSocket(s); err != nil {
				ln.Close()
				os.Remove(s.File)
				return nil, err
			}
			os.Remove(temp)
			return ln, nil
		}
		ln.Close()
		os.Remove(temp)
		if !errors.Is(err, os.ErrExist) {
			return nil, socketError(err)
		}
		if socketInUse(s.File) {
			return nil, errAddrInUse
		}
		fmt.Fprintf(stderr, "Unlinking stale socket %s\n", s.File)
		os.Remove(s.File)
		time.Sleep(staleSocketDelay)
	}
}

func chownSocket(s config.UnixHTTPServer) error {
	err := os.Chown(s.File, s.ChownUID, s.ChownGID)
	if err == nil {
		return nil
	}
	if errors.Is(err, syscall.EPERM) {
		name := strconv.Itoa(os.Geteuid())
		if u, uerr := user.LookupId(name); uerr == nil {
			name = u.Username
		}
		return fmt.Errorf("Not permitted to chown %s to uid/gid (%d, %d); adjust \"sockchown\" value in config file or on command line to values that the current user (%s) can successfully chown",
			s.File, s.ChownUID, s.ChownGID, name)
	}
	return socketError(err)
}

// socketInUse reports whether something answers an HTTP request on the unix
// socket path: Supervisor's test for a live (not stale) socket.
func socketInUse(path string) bool {
	c, err := net.DialTimeout("unix", path, time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := io.WriteString(c, "GET / HTTP/1.0\r\n\r\n"); err != nil {
		return false
	}
	var b [1]byte
	_, err = c.Read(b[:])
	// EOF still means someone accepted; a silent peer holds the socket too.
	var ne net.Error
	return err == nil || errors.Is(err, io.EOF) || (errors.As(err, &ne) && ne.Timeout())
}

// socketError renders a socket failure like Supervisor's openhttpservers:
// EADDRINUSE gets its own sentence, other errnos their symbolic name.
func socketError(err error) error {
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return fmt.Errorf("Cannot open an HTTP server: socket.error reported %v", err)
	}
	if errno == syscall.EADDRINUSE {
		return errAddrInUse
	}
	if name, ok := sysnames.ErrnoName(errno); ok {
		return fmt.Errorf("Cannot open an HTTP server: socket.error reported errno.%s (%d)", name, int(errno))
	}
	return fmt.Errorf("Cannot open an HTTP server: socket.error reported %d", int(errno))
}

// httpServers serves a handler on every listener until closed.
type httpServers struct {
	servers []*http.Server
	done    chan struct{} // closed when every Serve returned
}

// serve starts one http.Server per listener, ls[i] serving handlers[i],
// within lim.
func serve(ls []*listener, handlers []http.Handler, lim httpLimits) *httpServers {
	h := &httpServers{done: make(chan struct{})}
	finished := make(chan struct{}, len(ls))
	for i, l := range ls {
		srv := &http.Server{
			Handler:           newBodyLimiter(handlers[i], lim),
			ReadHeaderTimeout: lim.header,
			IdleTimeout:       lim.idle,
			ConnContext:       withConn,
		}
		h.servers = append(h.servers, srv)
		guard.Go("HTTP server "+l.Addr().String(), func() {
			defer func() { finished <- struct{}{} }()
			srv.Serve(newConnLimiter(l, lim.conns)) // returns http.ErrServerClosed once shut down
		})
	}
	guard.Go("HTTP servers", func() {
		for range ls {
			<-finished
		}
		close(h.done)
	})
	return h
}

// shutdown lets in-flight requests (e.g. the shutdown RPC's own answer)
// finish for a short while, then closes every connection, including log
// tails that would follow forever.
func (h *httpServers) shutdown() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	stop := func() {
		for _, srv := range h.servers {
			if srv.Shutdown(ctx) != nil {
				srv.Close()
			}
		}
	}
	stop()
	<-h.done
	// A connection that Serve accepted while Shutdown looked for active
	// ones is tracked only after that look, and Shutdown did not wait for
	// it; once every Serve has returned, all are tracked, and a second
	// Shutdown waits for them (an upgrade would otherwise exec under a
	// request in progress: its client saw EOF).
	stop()
}
