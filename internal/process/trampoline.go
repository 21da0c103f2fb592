package process

import (
	"os"
	"strconv"
	"syscall"
)

// trampolineArg0 marks a re-exec of this binary as a spawn trampoline:
// argv = [trampolineArg0, umask (octal or "-"), directory, path, argv...].
const trampolineArg0 = "drover: spawn trampoline"

// init turns this process into the trampoline when exec'ed as one. It runs in
// the child, already in its process group, with its pipes and credentials,
// and does steps 5 and 6 of Supervisor's child setup (chdir, umask) before
// exec'ing the program; failures are reported as Supervisor's child does.
func init() {
	if len(os.Args) < 5 || os.Args[0] != trampolineArg0 {
		return
	}
	umask, dir, path, argv := os.Args[1], os.Args[2], os.Args[3], os.Args[4:]
	if dir != "" {
		if err := syscall.Chdir(dir); err != nil {
			childFail("couldn't chdir to " + dir + ": " + errnoName(err))
		}
	}
	if umask != "-" {
		if m, err := strconv.ParseInt(umask, 8, 32); err == nil {
			syscall.Umask(int(m))
		}
	}
	err := syscall.Exec(path, argv, os.Environ())
	childFail("couldn't exec " + path + ": " + errnoName(err))
}

// childFail writes Supervisor's child-side failure lines to stderr and exits 127.
func childFail(msg string) {
	os.Stderr.WriteString("supervisor: " + msg + "\nsupervisor: child process was not spawned\n")
	os.Exit(127)
}
