package supervisor

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/process"
	"github.com/drover/drover/internal/pyrepr"
)

// fcgiSocket is the listening socket of an [fcgi-program:x] group, given to
// each of its processes as fd 0. As Supervisor's SocketManager does, it is
// created when a process of the group is spawned while no other holds it,
// and closed when the last process holding it has been reaped.
type fcgiSocket struct {
	cfg *config.Group
	log process.Logger

	mu   sync.Mutex
	refs int      // guarded by mu: processes holding file
	file *os.File // guarded by mu: nil when refs is 0
}

func newFCGISocket(cfg *config.Group, log process.Logger) *fcgiSocket {
	return &fcgiSocket{cfg: cfg, log: log}
}

// acquire is the process.Options.ChildStdin of the group's processes.
func (s *fcgiSocket) acquire() (*os.File, func(), error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.refs == 0 && s.file == nil {
		s.logf("Creating socket %s", s.cfg.Socket)
		f, err := listenFCGI(s.cfg)
		if err != nil {
			return nil, nil, fmt.Errorf("Could not create FastCGI socket %s: %s", s.cfg.Socket, pyrepr.OSError(err))
		}
		s.file = f
	}
	s.refs++
	var once sync.Once
	return s.file, func() { once.Do(s.release) }, nil
}

func (s *fcgiSocket) release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refs--
	if s.refs == 0 {
		s.logf("Closing socket %s", s.cfg.Socket)
		s.file.Close()
		s.file = nil
	}
}

// adopt makes fd, the socket an upgrade handed over, the group's open
// socket: the adopted processes that hold it acquire it (refs) as their
// runners take them over.
func (s *fcgiSocket) adopt(fd int) {
	unix.CloseOnExec(fd)
	s.mu.Lock()
	s.file = os.NewFile(uintptr(fd), s.cfg.Socket)
	s.mu.Unlock()
}

// handOver makes the open socket inheritable for an upgrade and returns
// its descriptor; ok is false when no process holds it (it is closed).
func (s *fcgiSocket) handOver() (fd int, ok bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.refs == 0 {
		return 0, false, nil
	}
	fd = -1
	rc, err := s.file.SyscallConn()
	if err == nil {
		rc.Control(func(d uintptr) {
			if _, err = unix.FcntlInt(d, unix.F_SETFD, 0); err == nil {
				fd = int(d)
			}
		})
	}
	return fd, err == nil, err
}

// takeBack undoes handOver after an upgrade that did not happen.
func (s *fcgiSocket) takeBack(fd int) { unix.CloseOnExec(fd) }

func (s *fcgiSocket) logf(format string, args ...any) {
	if s.log != nil {
		s.log.Logf(config.LevelInfo, format, args...)
	}
}

// fcgiBacklog is Python's socket.SOMAXCONN, the listen backlog when
// socket_backlog is unset (the kernel caps it at net.core.somaxconn).
const fcgiBacklog = 4096

// listenFCGI creates, binds and listens on the socket of g: a blocking
// socket, as the children expect to accept on it, close-on-exec here (the
// spawner hands it to each child as fd 0).
func listenFCGI(g *config.Group) (*os.File, error) {
	backlog := g.SocketBacklog
	if backlog == 0 {
		backlog = fcgiBacklog
	}
	if path, ok := strings.CutPrefix(g.Socket, "unix://"); ok {
		return listenUnix(path, g, backlog)
	}
	return listenTCP(strings.TrimPrefix(g.Socket, "tcp://"), backlog)
}

// listenTCP binds an IPv4 socket with SO_REUSEADDR, as Supervisor does.
func listenTCP(hostport string, backlog int) (*os.File, error) {
	host, portText, err := net.SplitHostPort(hostport)
	if err != nil {
		return nil, err
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		return nil, err
	}
	ip, err := net.ResolveIPAddr("ip4", host)
	if err != nil {
		return nil, err
	}
	addr := &syscall.SockaddrInet4{Port: port}
	copy(addr.Addr[:], ip.IP.To4())
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	if err := syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1); err != nil {
		syscall.Close(fd)
		return nil, err
	}
	return bindListen(fd, addr, backlog, "tcp://"+hostport, nil)
}

// listenUnix replaces a stale socket file, binds, then sets the owner and
// mode of the file before listening; on failure the file is removed.
func listenUnix(path string, g *config.Group, backlog int) (*os.File, error) {
	if _, err := os.Stat(path); err == nil {
		if err := os.Remove(path); err != nil {
			return nil, err
		}
	}
	fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	f, err := bindListen(fd, &syscall.SockaddrUnix{Name: path}, backlog, "unix://"+path, func() error {
		if g.SocketUID >= 0 || g.SocketGID >= 0 {
			if err := os.Chown(path, g.SocketUID, g.SocketGID); err != nil {
				return fmt.Errorf("Could not change ownership of socket file: %s", pyrepr.OSError(err))
			}
		}
		if err := os.Chmod(path, os.FileMode(g.SocketMode)); err != nil {
			return fmt.Errorf("Could not change permissions of socket file: %s", pyrepr.OSError(err))
		}
		return nil
	})
	if err != nil {
		os.Remove(path)
	}
	return f, err
}

// bindListen binds fd to addr, runs afterBind (if set), and listens; fd is
// closed on failure.
func bindListen(fd int, addr syscall.Sockaddr, backlog int, name string, afterBind func() error) (*os.File, error) {
	err := syscall.Bind(fd, addr)
	if err == nil && afterBind != nil {
		err = afterBind()
	}
	if err == nil {
		err = syscall.Listen(fd, backlog)
	}
	if err != nil {
		syscall.Close(fd)
		return nil, err
	}
	return os.NewFile(uintptr(fd), name), nil
}
