package sysnames

import (
	"syscall"
	"testing"
)

func TestSignalName(t *testing.T) {
	for sig, want := range map[syscall.Signal]string{syscall.SIGTERM: "SIGTERM", syscall.SIGCHLD: "SIGCHLD",
		syscall.SIGABRT: "SIGABRT", syscall.SIGIO: "SIGIO", 34: "signal 34", 40: "signal 40"} {
		if got := SignalName(sig); got != want {
			t.Errorf("SignalName(%d) = %q, want %q", int(sig), got, want)
		}
	}
	if Signals["SIGCLD"] != syscall.SIGCHLD || Signals["SIGRTMIN"] != 34 {
		t.Error("aliases missing from Signals")
	}
}

func TestErrnoName(t *testing.T) {
	if n, ok := ErrnoName(syscall.ENOENT); !ok || n != "ENOENT" {
		t.Errorf("ENOENT = %q, %v", n, ok)
	}
	if _, ok := ErrnoName(syscall.Errno(4095)); ok {
		t.Error("an unknown errno has a name")
	}
}
