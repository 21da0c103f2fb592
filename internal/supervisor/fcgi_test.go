package supervisor

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"syscall"
	"testing"

	"github.com/drover/drover/internal/config"
)

// freePort returns a TCP port of 127.0.0.1 that nothing listens on.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// dialable reports whether something listens at network/addr.
func dialable(network, addr string) bool {
	c, err := net.Dial(network, addr)
	if err == nil {
		c.Close()
	}
	return err == nil
}

func TestFCGISocketRefcount(t *testing.T) {
	port := freePort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	log := &lines{Prefix: ""}
	s := newFCGISocket(&config.Group{Name: "web", Kind: config.KindFCGI, Socket: "tcp://" + addr, SocketUID: -1, SocketGID: -1}, log)

	f1, release1, err := s.acquire()
	if err != nil {
		t.Fatal(err)
	}
	f2, release2, err := s.acquire()
	if err != nil {
		t.Fatal(err)
	}
	if f1 != f2 {
		t.Error("second acquire made a second socket")
	}
	if !dialable("tcp", addr) {
		t.Error("nothing listens after acquire")
	}
	release1()
	release1() // a second call must not count
	if !dialable("tcp", addr) {
		t.Error("socket closed while a process still holds it")
	}
	release2()
	if dialable("tcp", addr) {
		t.Error("socket still listening after the last release")
	}
	want := []string{"Creating socket tcp://" + addr, "Closing socket tcp://" + addr}
	if got := log.Msgs(); !reflect.DeepEqual(got, want) {
		t.Errorf("log:\n%q\nwant\n%q", got, want)
	}
	// Created again for the next spawn.
	if _, release, err := s.acquire(); err != nil {
		t.Errorf("acquire after close: %v", err)
	} else {
		release()
	}
}

func TestFCGISocketTCPInUse(t *testing.T) {
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	url := "tcp://" + l.Addr().String()
	s := newFCGISocket(&config.Group{Name: "web", Kind: config.KindFCGI, Socket: url, SocketUID: -1, SocketGID: -1}, nil)
	_, _, err = s.acquire()
	want := "Could not create FastCGI socket " + url + ": [Errno 98] Address already in use"
	if err == nil || err.Error() != want {
		t.Errorf("acquire = %v, want %q", err, want)
	}
	if s.refs != 0 {
		t.Errorf("refs after a failed acquire = %d, want 0", s.refs)
	}
}

func TestFCGISocketUnix(t *testing.T) {
	root := os.Geteuid() == 0
	tests := []struct {
		name     string
		stale    string // "file" or "socket": left at the path before
		mode     uint32
		uid, gid int
		missing  bool // the directory does not exist
		wantErr  string
	}{
		{name: "default mode", mode: 0o700, uid: -1, gid: -1},
		{name: "mode 0660", mode: 0o660, uid: -1, gid: -1},
		{name: "stale socket replaced", stale: "socket", mode: 0o700, uid: -1, gid: -1},
		{name: "stale file replaced", stale: "file", mode: 0o700, uid: -1, gid: -1},
		{name: "owner", mode: 0o700, uid: 1, gid: 1,
			wantErr: map[bool]string{false: "Could not create FastCGI socket unix://%[1]s: Could not change ownership of socket file: [Errno 1] Operation not permitted: '%[1]s'"}[root]},
		{name: "no such directory", missing: true, mode: 0o700, uid: -1, gid: -1,
			wantErr: "Could not create FastCGI socket unix://%[1]s: [Errno 2] No such file or directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, err := os.MkdirTemp("", "drv")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.RemoveAll(dir) })
			path := filepath.Join(dir, "f.sock")
			if tt.missing {
				path = filepath.Join(dir, "none", "f.sock")
			}
			switch tt.stale {
			case "file":
				if err := os.WriteFile(path, nil, 0o600); err != nil {
					t.Fatal(err)
				}
			case "socket":
				l, err := net.Listen("unix", path)
				if err != nil {
					t.Fatal(err)
				}
				l.(*net.UnixListener).SetUnlinkOnClose(false)
				l.Close()
			}
			s := newFCGISocket(&config.Group{Name: "u", Kind: config.KindFCGI, Socket: "unix://" + path,
				SocketMode: tt.mode, SocketUID: tt.uid, SocketGID: tt.gid}, nil)
			_, release, err := s.acquire()
			if tt.wantErr != "" {
				if want := fmt.Sprintf(tt.wantErr, path); err == nil || err.Error() != want {
					t.Errorf("acquire = %v, want %q", err, want)
				}
				if _, err := os.Lstat(path); err == nil && !tt.missing {
					t.Error("socket file left after a failed creation")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer release()
			var st syscall.Stat_t
			if err := syscall.Stat(path, &st); err != nil {
				t.Fatal(err)
			}
			if st.Mode&syscall.S_IFMT != syscall.S_IFSOCK || st.Mode&0o7777 != tt.mode {
				t.Errorf("mode = %o, want a socket with mode %o", st.Mode, tt.mode)
			}
			wantUID, wantGID := uint32(os.Getuid()), uint32(os.Getgid())
			if tt.uid >= 0 {
				wantUID, wantGID = uint32(tt.uid), uint32(tt.gid)
			}
			if st.Uid != wantUID || st.Gid != wantGID {
				t.Errorf("owner = %d:%d, want %d:%d", st.Uid, st.Gid, wantUID, wantGID)
			}
			if !dialable("unix", path) {
				t.Error("nothing listens on the socket")
			}
		})
	}
}
