package handover

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/supervisor"
)

// An execve that fails returns to the old image with everything as before:
// the supervisor thawed, and no descriptor made inheritable for the new
// image (state, executable, sockets) left so for a child forked next.
func TestExecFailureLeavesNothingInheritable(t *testing.T) {
	notExecutable := filepath.Join(t.TempDir(), "drover")
	if err := os.WriteFile(notExecutable, []byte("not a program\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	inheritedByTest := map[int]bool{} // stdio, and what go test leaves open
	for fd := range inheritableFDs(t) {
		inheritedByTest[fd] = true
	}
	sup := supervisor.New(&config.Config{}, supervisor.Options{})
	sock, err := os.CreateTemp(t.TempDir(), "listener") // any descriptor stands for a socket here
	if err != nil {
		t.Fatal(err)
	}
	defer sock.Close()
	u := &Upgrade{Exe: notExecutable, Args: []string{notExecutable}, Supervisor: sup, Images: 1}
	err = u.Exec([]Listener{{Section: "unix_http_server", Addr: "/run/s.sock", FD: int(sock.Fd())}})
	if !errors.Is(err, syscall.EACCES) || !strings.Contains(err.Error(), "execve "+notExecutable) {
		t.Fatalf("Exec of a file that is not executable: %v, want execve's EACCES", err)
	}
	if err := sup.CheckFreezable(); err != nil {
		t.Errorf("after the failed exec the supervisor is still held: %v", err)
	}
	for fd, target := range inheritableFDs(t) {
		if !inheritedByTest[fd] {
			t.Errorf("descriptor %d (%s) is inheritable after the failed exec", fd, target)
		}
	}
}

// inheritableFDs lists this process's descriptors without close-on-exec,
// with what they are.
func inheritableFDs(t *testing.T) map[int]string {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	m := map[int]string{}
	for _, e := range entries {
		fd, _ := strconv.Atoi(e.Name())
		flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
		if err == nil && flags&unix.FD_CLOEXEC == 0 {
			m[fd], _ = os.Readlink("/proc/self/fd/" + e.Name()) // ReadDir's own descriptor is closed by now
		}
	}
	return m
}
