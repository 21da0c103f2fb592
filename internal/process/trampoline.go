package process

import (
	"os"
	"strconv"
	"strings"
	"syscall"
)

// trampolineArg0 marks a re-exec of this binary as a spawn trampoline:
// argv = [trampolineArg0, ids ("uid:gid:group..." or "-"), directory,
// umask (octal or "-"), death signal ("signum:daemonpid" or "-"), path, argv...].
const trampolineArg0 = "drover: spawn trampoline"

// init turns this process into the trampoline when exec'ed as one. It runs in
// the child, already in its process group and with its pipes, and does steps
// 3, 5 and 6 of Supervisor's child setup (user, chdir, umask) before exec'ing
// the program; failures are reported as Supervisor's child does.
func init() {
	if len(os.Args) < 7 || os.Args[0] != trampolineArg0 {
		return
	}
	ids, dir, umask, deathsig, path, argv := os.Args[1], os.Args[2], os.Args[3], os.Args[4], os.Args[5], os.Args[6:]
	if ids != "-" {
		setIDs(ids)
	}
	if deathsig != "-" {
		armDeathSignal(deathsig)
	}
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

// armDeathSignal sets the parent-death signal again ("signum:daemonpid"):
// changing credentials cleared the one the fork set. If the daemon died
// before that, nothing will send it, so the trampoline exits instead of
// starting an orphan.
func armDeathSignal(arg string) {
	sig, pid, ok := strings.Cut(arg, ":")
	signum, err1 := strconv.Atoi(sig)
	daemon, err2 := strconv.Atoi(pid)
	if !ok || err1 != nil || err2 != nil {
		childFail("bad trampoline death signal " + arg)
	}
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, syscall.PR_SET_PDEATHSIG, uintptr(signum), 0); errno != 0 {
		childFail("couldn't set the parent-death signal: " + errnoName(errno))
	}
	if os.Getppid() != daemon {
		os.Exit(1)
	}
}

// setIDs does setgroups, setgid, setuid (for every thread: Go's syscall
// package applies them process-wide).
func setIDs(ids string) {
	var nums []int
	for _, f := range strings.Split(ids, ":") {
		n, err := strconv.Atoi(f)
		if err != nil {
			childFail("bad trampoline ids " + ids)
		}
		nums = append(nums, n)
	}
	uid, gid, groups := nums[0], nums[1], nums[2:]
	fail := func(err error) { childFail("couldn't setuid to " + strconv.Itoa(uid) + ": " + err.Error()) }
	if err := syscall.Setgroups(groups); err != nil {
		fail(err)
	}
	if err := syscall.Setgid(gid); err != nil {
		fail(err)
	}
	if err := syscall.Setuid(uid); err != nil {
		fail(err)
	}
}

// childFail writes Supervisor's child-side failure lines to stderr and exits 127.
func childFail(msg string) {
	os.Stderr.WriteString("supervisor: " + msg + "\nsupervisor: child process was not spawned\n")
	os.Exit(127)
}
