// Package sysnames holds the names Python, and so Supervisor, gives Linux
// signals and errnos: the one signal table (config parses stopsignal with
// it, process and daemon name signals in log lines) and the one errno table
// (child-side spawn errors, socket errors).
package sysnames

import (
	"strconv"
	"syscall"
)

// Signals are the signals Python's signal module defines on Linux, by
// name, aliases included.
var Signals = map[string]syscall.Signal{
	"SIGABRT": syscall.SIGABRT, "SIGALRM": syscall.SIGALRM, "SIGBUS": syscall.SIGBUS,
	"SIGCHLD": syscall.SIGCHLD, "SIGCLD": syscall.SIGCHLD, "SIGCONT": syscall.SIGCONT,
	"SIGFPE": syscall.SIGFPE, "SIGHUP": syscall.SIGHUP, "SIGILL": syscall.SIGILL,
	"SIGINT": syscall.SIGINT, "SIGIO": syscall.SIGIO, "SIGIOT": syscall.SIGIOT,
	"SIGKILL": syscall.SIGKILL, "SIGPIPE": syscall.SIGPIPE, "SIGPOLL": syscall.SIGIO,
	"SIGPROF": syscall.SIGPROF, "SIGPWR": syscall.SIGPWR, "SIGQUIT": syscall.SIGQUIT,
	"SIGRTMAX": 64, "SIGRTMIN": 34, "SIGSEGV": syscall.SIGSEGV, "SIGSTKFLT": syscall.SIGSTKFLT,
	"SIGSTOP": syscall.SIGSTOP, "SIGSYS": syscall.SIGSYS, "SIGTERM": syscall.SIGTERM,
	"SIGTRAP": syscall.SIGTRAP, "SIGTSTP": syscall.SIGTSTP, "SIGTTIN": syscall.SIGTTIN,
	"SIGTTOU": syscall.SIGTTOU, "SIGURG": syscall.SIGURG, "SIGUSR1": syscall.SIGUSR1,
	"SIGUSR2": syscall.SIGUSR2, "SIGVTALRM": syscall.SIGVTALRM, "SIGWINCH": syscall.SIGWINCH,
	"SIGXCPU": syscall.SIGXCPU, "SIGXFSZ": syscall.SIGXFSZ,
}

// notShownAs are the names of Signals a signal is never printed as: the
// aliases, and the real-time bounds, which Supervisor prints as numbers.
var notShownAs = map[string]bool{"SIGCLD": true, "SIGIOT": true, "SIGPOLL": true, "SIGRTMIN": true, "SIGRTMAX": true}

var signalNames = func() map[syscall.Signal]string {
	m := make(map[syscall.Signal]string, len(Signals))
	for name, sig := range Signals {
		if !notShownAs[name] {
			m[sig] = name
		}
	}
	return m
}()

// SignalName returns Supervisor's name of sig, e.g. "SIGTERM" ("signal 40"
// for one without a name, as its signame does).
func SignalName(sig syscall.Signal) string {
	if n, ok := signalNames[sig]; ok {
		return n
	}
	return "signal " + strconv.Itoa(int(sig))
}

// errnoNames are the symbolic names (Python's errno.errorcode) of the errnos
// a spawn, a bind, a chmod or a link can plausibly report.
var errnoNames = map[syscall.Errno]string{
	syscall.EPERM: "EPERM", syscall.ENOENT: "ENOENT", syscall.ESRCH: "ESRCH",
	syscall.EIO: "EIO", syscall.E2BIG: "E2BIG", syscall.ENOEXEC: "ENOEXEC",
	syscall.EAGAIN: "EAGAIN", syscall.ENOMEM: "ENOMEM", syscall.EACCES: "EACCES",
	syscall.EFAULT: "EFAULT", syscall.EEXIST: "EEXIST", syscall.EXDEV: "EXDEV",
	syscall.ENOTDIR: "ENOTDIR", syscall.EISDIR: "EISDIR", syscall.EINVAL: "EINVAL",
	syscall.ENFILE: "ENFILE", syscall.EMFILE: "EMFILE", syscall.ETXTBSY: "ETXTBSY",
	syscall.ENOSPC: "ENOSPC", syscall.EROFS: "EROFS", syscall.EMLINK: "EMLINK",
	syscall.ENAMETOOLONG: "ENAMETOOLONG", syscall.ELOOP: "ELOOP", syscall.ELIBBAD: "ELIBBAD",
	syscall.EAFNOSUPPORT: "EAFNOSUPPORT", syscall.EADDRINUSE: "EADDRINUSE",
	syscall.EADDRNOTAVAIL: "EADDRNOTAVAIL",
}

// ErrnoName returns the symbolic name of errno, e.g. "ENOENT"; ok is false
// for an errno this table does not name.
func ErrnoName(errno syscall.Errno) (name string, ok bool) {
	name, ok = errnoNames[errno]
	return name, ok
}
