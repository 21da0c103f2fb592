package daemon

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"slices"
	"strconv"
	"syscall"
)

// dropPrivileges makes supervisord run as uid: supplementary groups
// (primary gid first), gid, then uid. Already being uid is success; a
// non-root process cannot become anyone else.
func dropPrivileges(uid, gid int) error {
	if os.Getuid() == uid {
		return nil
	}
	if os.Getuid() != 0 {
		return errors.New("Can't drop privilege as nonroot user")
	}
	groups := []int{gid}
	if u, err := user.LookupId(strconv.Itoa(uid)); err == nil {
		ids, _ := u.GroupIds()
		for _, id := range ids {
			if g, err := strconv.Atoi(id); err == nil && !slices.Contains(groups, g) {
				groups = append(groups, g)
			}
		}
	}
	if err := syscall.Setgroups(groups); err != nil {
		return errors.New("Could not set groups of effective user")
	}
	if err := syscall.Setgid(gid); err != nil {
		return errors.New("Could not set group id of effective user")
	}
	if err := syscall.Setuid(uid); err != nil {
		return fmt.Errorf("set uid %d: %w", uid, err)
	}
	return nil
}

// rlimitNeed is one resource limit supervisord raises at first start.
type rlimitNeed struct {
	name     string // for the log line, e.g. "RLIMIT_NOFILE"
	resource int
	min      uint64
	// errFormat takes the minimum and the hard limit.
	errFormat string
}

func rlimitNeeds(minfds, minprocs int) []rlimitNeed {
	return []rlimitNeed{
		{"RLIMIT_NOFILE", syscall.RLIMIT_NOFILE, uint64(minfds),
			"The minimum number of file descriptors required to run this process is %d as per the \"minfds\" command-line argument or config file setting. The current environment will only allow you to open %d file descriptors.  Either raise the number of usable file descriptors in your environment (see README.rst) or lower the minfds setting in the config file to allow the process to start."},
		{"RLIMIT_NPROC", rlimitNproc, uint64(minprocs),
			"The minimum number of available processes required to run this program is %d as per the \"minprocs\" command-line argument or config file setting. The current environment will only allow you to open %d processes.  Either raise the number of usable processes in your environment (see README.rst) or lower the minprocs setting in the config file to allow the program to start."},
	}
}

// rlimInfinity is RLIM_INFINITY as the kernel reports it in an Rlimit.
const rlimInfinity = ^uint64(0)

// rlimitNproc is RLIMIT_NPROC on Linux (not exported by package syscall).
const rlimitNproc = 6

// raiseRlimits raises soft limits below their minimum (and the hard limit
// too when it is lower, which only root may do). It returns the
// "Increased ... limit to N" notes for the main log, or Supervisor's usage
// error. Go's runtime already lifted the daemon's own RLIMIT_NOFILE soft
// limit to the hard limit, so that line is rare.
func raiseRlimits(needs []rlimitNeed) (infos []string, err error) {
	for _, n := range needs {
		var lim syscall.Rlimit
		if err := syscall.Getrlimit(n.resource, &lim); err != nil {
			return infos, fmt.Errorf("get %s: %w", n.name, err)
		}
		if lim.Cur >= n.min || lim.Cur == rlimInfinity {
			continue
		}
		hard := lim.Max
		if hard < n.min && hard != rlimInfinity {
			hard = n.min
		}
		if err := syscall.Setrlimit(n.resource, &syscall.Rlimit{Cur: n.min, Max: hard}); err != nil {
			return infos, fmt.Errorf(n.errFormat, n.min, hard)
		}
		infos = append(infos, fmt.Sprintf("Increased %s limit to %d", n.name, n.min))
	}
	return infos, nil
}
