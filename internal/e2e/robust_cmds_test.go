package e2e

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"syscall"

	"github.com/rogpeppe/go-internal/testscript"
)

// Commands and the [tmpfs] condition for the robustness scripts
// (testdata/robust_*.txtar).

// countprocs SUBSTRING N [timeout]: wait until exactly N live processes have
// a command line containing SUBSTRING.
func cmdCountProcs(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 || len(args) > 3 {
		ts.Fatalf("usage: countprocs SUBSTRING N [timeout]")
	}
	want, err := strconv.Atoi(args[1])
	ts.Check(err)
	poll(ts, waitArg(ts, args, 2), "countprocs "+args[0], func() (bool, string) {
		pids := procsMatching([]byte(args[0]))
		return len(pids) == want, fmt.Sprintf("%d: %v", len(pids), pids)
	})
}

// procsMatching returns the live processes whose NUL-separated command line
// contains sub.
func procsMatching(sub []byte) []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || !bytes.Contains(bytes.ReplaceAll(cmdline, []byte{0}, []byte{' '}), sub) || !alive(pid) {
			continue
		}
		pids = append(pids, pid)
	}
	return pids
}

// killprocs SUBSTRING: SIGKILL every process whose command line contains
// SUBSTRING (the workers a script deliberately leaves behind).
func cmdKillProcs(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: killprocs SUBSTRING")
	}
	for _, pid := range procsMatching([]byte(args[0])) {
		syscall.Kill(pid, syscall.SIGKILL)
	}
}

// seqlines FILE PREFIX N: the lines "PREFIX<i>" (i from 0 to N-1) appear
// each exactly once, in order, in FILE's rotated backups (FILE.k, oldest
// first) and FILE itself put back together (a line may span two files: a
// write is split where a file is full). Other lines are ignored.
func cmdSeqLines(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: seqlines FILE PREFIX N")
	}
	files := rotatedFiles(ts, args[0])
	n, err := strconv.Atoi(args[2])
	ts.Check(err)
	re := regexp.MustCompile("^" + regexp.QuoteMeta(args[1]) + `(\d+)$`)
	var all []io.Reader
	for _, name := range files {
		f, err := os.Open(name)
		ts.Check(err)
		defer f.Close()
		all = append(all, f)
	}
	next := 0
	sc := bufio.NewScanner(io.MultiReader(all...))
	for sc.Scan() {
		m := re.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		if got, _ := strconv.Atoi(m[1]); got != next {
			ts.Fatalf("%s%d where %s%d was due", args[1], got, args[1], next)
		}
		next++
	}
	ts.Check(sc.Err())
	if next != n {
		ts.Fatalf("%d lines %s<i> in %d files, want %d", next, args[1], len(files), n)
	}
	ts.Logf("%d lines %s<i> in order across %d files", n, args[1], len(files))
}

// mounttmpfs DIR SIZE: mount a tmpfs of SIZE (e.g. 1m) on DIR, unmounted
// (lazily: a daemon may still hold files there) when the script ends.
func cmdMountTmpfs(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: mounttmpfs DIR SIZE")
	}
	dir := ts.MkAbs(args[0])
	ts.Check(os.MkdirAll(dir, 0o755))
	ts.Check(syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+args[1]))
	ts.Defer(func() { syscall.Unmount(dir, syscall.MNT_DETACH) })
}

// canMountTmpfs is the [tmpfs] condition: a tmpfs can be mounted here (root,
// and not in a container that forbids it).
var canMountTmpfs = sync.OnceValue(func() bool {
	dir, err := os.MkdirTemp("", "drvmnt")
	if err != nil {
		return false
	}
	defer os.Remove(dir)
	if syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=64k") != nil {
		return false
	}
	syscall.Unmount(dir, 0)
	return true
})

// rotatedFiles returns FILE's rotated backups, oldest first, then FILE.
func rotatedFiles(ts *testscript.TestScript, file string) []string {
	base := ts.MkAbs(file)
	var files []string
	for k := 1; ; k++ {
		if _, err := os.Stat(fmt.Sprintf("%s.%d", base, k)); err != nil {
			break
		}
		files = append([]string{fmt.Sprintf("%s.%d", base, k)}, files...)
	}
	return append(files, base)
}

// rotatedsizes FILE MAX: FILE has rotated backups (FILE.1 …), and each is
// at most MAX bytes.
func cmdRotatedSizes(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: rotatedsizes FILE MAX")
	}
	maxBytes, err := strconv.ParseInt(args[1], 10, 64)
	ts.Check(err)
	files := rotatedFiles(ts, args[0])
	if len(files) < 2 {
		ts.Fatalf("%s has no rotated backups", args[0])
	}
	for _, name := range files[:len(files)-1] {
		st, err := os.Stat(name)
		ts.Check(err)
		if st.Size() > maxBytes {
			ts.Fatalf("%s: %d bytes, more than %d", filepath.Base(name), st.Size(), maxBytes)
		}
		ts.Logf("%s: %d bytes", filepath.Base(name), st.Size())
	}
}

// settle CTL CONF VAR [timeout]: run `CTL -c CONF status` until no process
// is STARTING or BACKOFF any more, then set $VAR to the number RUNNING.
func cmdSettle(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 3 || len(args) > 4 {
		ts.Fatalf("usage: settle CTL CONF VAR [timeout]")
	}
	transient := regexp.MustCompile(`(?m)^\S+ +(STARTING|BACKOFF)`)
	running := regexp.MustCompile(`(?m)^\S+ +RUNNING`)
	var out string
	poll(ts, waitArg(ts, args, 3), "settle", func() (bool, string) {
		ts.Exec(args[0], "-c", args[1], "status") // exits non-zero unless all run
		out = ts.ReadFile("stdout")
		n := len(transient.FindAllString(out, -1))
		return out != "" && n == 0, fmt.Sprintf("%d starting or in backoff", n)
	})
	n := len(running.FindAllString(out, -1))
	ts.Logf("%s: %d RUNNING", args[0], n)
	ts.Setenv(args[2], strconv.Itoa(n))
}

// atleast A B: the integer A is at least B.
func cmdAtLeast(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: atleast A B")
	}
	a, err := strconv.Atoi(args[0])
	ts.Check(err)
	b, err := strconv.Atoi(args[1])
	ts.Check(err)
	if a < b {
		ts.Fatalf("%d < %d", a, b)
	}
}

// fdcount PID MAX: process PID has at most MAX open descriptors.
func cmdFDCount(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: fdcount PID MAX")
	}
	limit, err := strconv.Atoi(args[1])
	ts.Check(err)
	fds, err := os.ReadDir(filepath.Join("/proc", args[0], "fd"))
	ts.Check(err)
	ts.Logf("pid %s: %d open descriptors", args[0], len(fds))
	if len(fds) > limit {
		var targets []string
		for _, fd := range fds {
			target, _ := os.Readlink(filepath.Join("/proc", args[0], "fd", fd.Name()))
			targets = append(targets, target)
		}
		ts.Fatalf("%d open descriptors, more than %d: %v", len(fds), limit, targets)
	}
}
