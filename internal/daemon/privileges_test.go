package daemon

import (
	"os"
	"strconv"
	"syscall"
	"testing"
)

func TestDropPrivilegesToSelfIsNoop(t *testing.T) {
	if err := dropPrivileges(os.Getuid(), os.Getgid()); err != nil {
		t.Errorf("dropPrivileges(self) = %v", err)
	}
}

func TestRaiseRlimits(t *testing.T) {
	var orig syscall.Rlimit
	if err := syscall.Getrlimit(rlimitNproc, &orig); err != nil {
		t.Fatal(err)
	}
	if orig.Cur == rlimInfinity || orig.Cur+1 > orig.Max {
		t.Skipf("RLIMIT_NPROC soft limit %d cannot be raised by one", orig.Cur)
	}
	t.Cleanup(func() { syscall.Setrlimit(rlimitNproc, &orig) })
	needs := rlimitNeeds(0, int(orig.Cur+1))
	infos, err := raiseRlimits(needs)
	if err != nil {
		t.Fatal(err)
	}
	if want := "Increased RLIMIT_NPROC limit to " + itoa(int(orig.Cur+1)); len(infos) != 1 || infos[0] != want {
		t.Errorf("infos = %q, want [%q]", infos, want)
	}
	// Already high enough: nothing to say.
	if infos, err := raiseRlimits(needs); err != nil || len(infos) != 0 {
		t.Errorf("second raise = %q, %v; want nothing", infos, err)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
