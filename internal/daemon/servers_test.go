package daemon

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/drover/drover/internal/config"
)

func shortTempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "drv")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func unixServerConfig(path string) *config.Config {
	return &config.Config{UnixHTTPServers: []config.UnixHTTPServer{{
		Section: "unix_http_server", File: path, Chmod: 0o700, ChownUID: -1, ChownGID: -1,
	}}}
}

func TestListenUnixCreatesSocketWithMode(t *testing.T) {
	sock := filepath.Join(shortTempDir(t), "s.sock")
	cfg := unixServerConfig(sock)
	cfg.UnixHTTPServers[0].Chmod = 0o640
	ls, err := openListeners(cfg, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(sock)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode()&os.ModeSocket == 0 || fi.Mode().Perm() != 0o640 {
		t.Errorf("socket mode = %v, want socket 0640", fi.Mode())
	}
	entries, _ := os.ReadDir(filepath.Dir(sock))
	if len(entries) != 1 {
		t.Errorf("socket dir holds %d entries, want only the socket (temp name removed)", len(entries))
	}
	closeListeners(ls)
	if _, err := os.Stat(sock); !os.IsNotExist(err) {
		t.Errorf("socket file still there after close: %v", err)
	}
}

func TestListenUnixStaleSocket(t *testing.T) {
	sock := filepath.Join(shortTempDir(t), "s.sock")
	// A socket file nobody listens on: bound, then the fd closed without unlinking.
	fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Bind(fd, &syscall.SockaddrUnix{Name: sock}); err != nil {
		t.Fatal(err)
	}
	syscall.Close(fd)

	var stderr bytes.Buffer
	ls, err := openListeners(unixServerConfig(sock), &stderr)
	if err != nil {
		t.Fatal(err)
	}
	defer closeListeners(ls)
	if want := "Unlinking stale socket " + sock + "\n"; stderr.String() != want {
		t.Errorf("stderr = %q, want %q", stderr.String(), want)
	}
}

func TestListenUnixInUse(t *testing.T) {
	sock := filepath.Join(shortTempDir(t), "s.sock")
	first, err := openListeners(unixServerConfig(sock), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer closeListeners(first)
	srv := serve(first, []http.Handler{http.NotFoundHandler()}, defaultHTTPLimits())
	defer srv.shutdown()

	var stderr bytes.Buffer
	_, err = openListeners(unixServerConfig(sock), &stderr)
	if err != errAddrInUse {
		t.Fatalf("second open: err = %v, want errAddrInUse", err)
	}
	if stderr.Len() != 0 {
		t.Errorf("stderr = %q, want nothing", stderr.String())
	}
	if _, err := os.Stat(sock); err != nil {
		t.Errorf("the first server's socket was removed: %v", err)
	}
}

func TestOpenListenersErrors(t *testing.T) {
	dir := shortTempDir(t)
	busy, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	busyPort := busy.Addr().(*net.TCPAddr).Port

	tests := []struct {
		name string
		cfg  *config.Config
		want string
	}{
		{"missing dir", unixServerConfig(filepath.Join(dir, "nodir", "s.sock")),
			"Cannot open an HTTP server: socket.error reported errno.ENOENT (2)"},
		{"port in use", &config.Config{InetHTTPServers: []config.InetHTTPServer{{Section: "inet_http_server", Host: "127.0.0.1", Port: busyPort}}},
			errAddrInUse.Error()},
	}
	for _, tt := range tests {
		ls, err := openListeners(tt.cfg, io.Discard)
		if err == nil {
			closeListeners(ls)
		}
		if err == nil || err.Error() != tt.want {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.want)
		}
	}
}

func TestOpenListenersClosesOnLaterFailure(t *testing.T) {
	sock := filepath.Join(shortTempDir(t), "s.sock")
	busy, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	cfg := unixServerConfig(sock)
	cfg.InetHTTPServers = []config.InetHTTPServer{{Section: "inet_http_server", Host: "127.0.0.1", Port: busy.Addr().(*net.TCPAddr).Port}}
	if _, err := openListeners(cfg, io.Discard); err != errAddrInUse {
		t.Fatalf("err = %v, want errAddrInUse", err)
	}
	if _, err := os.Stat(sock); !os.IsNotExist(err) {
		t.Errorf("unix socket left behind after a later server failed: %v", err)
	}
}

func TestServeAnswersOverUnixSocket(t *testing.T) {
	sock := filepath.Join(shortTempDir(t), "s.sock")
	ls, err := openListeners(unixServerConfig(sock), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer closeListeners(ls)
	srv := serve(ls, []http.Handler{http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "unix_http_server")
	})}, defaultHTTPLimits())
	c := http.Client{Transport: &http.Transport{Dial: func(string, string) (net.Conn, error) { return net.Dial("unix", sock) }}}
	resp, err := c.Get("http://localhost/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "unix_http_server" {
		t.Errorf("body = %q", body)
	}
	srv.shutdown()
	if _, err := c.Get("http://localhost/"); err == nil || !strings.Contains(err.Error(), "connect") {
		t.Errorf("after shutdown: err = %v, want a connect error", err)
	}
}
