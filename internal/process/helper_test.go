package process

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The test binary is also the child of real-process tests (os/exec's
// helperCommands pattern): with helperEnv set it runs helperMain instead.
const helperEnv = "DROVER_PROCESS_HELPER=1"

// noRaceExitDelay keeps -race helper children from sleeping 1 s at exit.
const noRaceExitDelay = "GORACE=atexit_sleep_ms=0"

func TestMain(m *testing.M) {
	if os.Getenv("DROVER_PROCESS_HELPER") == "1" {
		helperMain(os.Args[1], os.Args[2:])
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// helperMain is one scripted child behaviour.
func helperMain(cmd string, args []string) {
	switch cmd {
	case "exit":
		code, _ := strconv.Atoi(args[0])
		os.Exit(code)
	case "sleep": // until killed
		fmt.Println("ready")
		sleepForever()
	case "ignoreterm":
		signal.Ignore(syscall.SIGTERM)
		fmt.Println("ready")
		sleepForever()
	case "grandchild", "groupchild": // start a sleeping grandchild sharing stdout
		gc := exec.Command(os.Args[0], "sleep")
		gc.Stdout = os.Stdout // the fd itself: the grandchild holds the pipe
		if err := gc.Start(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		fmt.Printf("gpid %d\n", gc.Process.Pid)
		if cmd == "groupchild" {
			sleepForever()
		}
	case "env":
		for _, kv := range os.Environ() {
			fmt.Println(kv)
		}
	case "exec-spawn-thread", "exec-other-thread":
		execAfterSpawn(cmd == "exec-spawn-thread")
	case "stdin":
		var st syscall.Stat_t
		if err := syscall.Fstat(0, &st); err != nil || st.Mode&syscall.S_IFMT != syscall.S_IFIFO {
			fmt.Println("stdin is not a pipe")
		}
		line, _ := bufio.NewReader(os.Stdin).ReadString('\n')
		fmt.Print("got " + line)
	case "closestdin":
		os.Stdin.Close()
		fmt.Println("ready")
		sleepForever()
	case "outerr":
		os.Stdout.WriteString("out\n")
		os.Stderr.WriteString("err\n")
	case "burst":
		n, _ := strconv.Atoi(args[0])
		os.Stdout.Write(burst(n))
	case "burstonterm": // on SIGTERM, write a burst, then exit 0
		n, _ := strconv.Atoi(args[0])
		term := make(chan os.Signal, 1)
		signal.Notify(term, syscall.SIGTERM)
		fmt.Println("ready")
		<-term
		os.Stdout.Write(burst(n))
		os.Exit(0)
	case "spawnorphan": // spawn "sleep 1000" with a death signal (via the trampoline if args[0] is a directory), then exit
		c := &Command{Name: "o", Argv: []string{"sleep", "1000"}, Env: os.Environ(),
			Dir: args[0], Umask: -1, UID: -1, GID: -1, DeathSignal: syscall.SIGTERM}
		ch, err := forkExec{}.Spawn(c)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		fmt.Printf("gpid %d\n", ch.PID())
	case "ids":
		groups, _ := syscall.Getgroups()
		fmt.Println(os.Getuid(), os.Getgid(), groups)
	case "pwd":
		wd, _ := os.Getwd()
		fmt.Println(wd)
	case "umask":
		fmt.Printf("%o\n", syscall.Umask(0))
	default:
		fmt.Fprintln(os.Stderr, "unknown helper", cmd)
		os.Exit(3)
	}
}

func sleepForever() {
	for {
		time.Sleep(time.Hour)
	}
}

// burst is n bytes of a pattern that shows any lost or reordered chunk.
func burst(n int) []byte {
	var b strings.Builder
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "%08d\n", i)
	}
	return []byte(b.String()[:n])
}

// waitFor polls cond until it holds or a generous deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// alive reports whether pid exists and is not a zombie.
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || len(s) < i+3 || s[i+2] != 'Z'
}

// outputPipe makes a pipe as Spawn makes a child's output pipe: the
// non-blocking read end a pumpedPipe takes, and the write end.
func outputPipe(t *testing.T) (*pumpedPipe, *os.File) {
	t.Helper()
	r, w, err := pipe(true)
	if err != nil {
		t.Fatal(err)
	}
	return &pumpedPipe{fd: r, what: "output pump of a test"}, os.NewFile(uintptr(w), "|1")
}
