package e2e

import (
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/drover/drover/internal/cli"
)

// pythonSupervisorctl is Debian's supervisorctl, the reference client.
const pythonSupervisorctl = "/usr/bin/supervisorctl"

// The test binary doubles as drover: testscript puts it on $PATH under each
// of these names, and cli.Main dispatches on argv[0] exactly as the binary does.
func TestMain(m *testing.M) {
	entry := func() { os.Exit(cli.Main(os.Args, os.Stdin, os.Stdout, os.Stderr)) }
	testscript.Main(m, map[string]func(){
		"drover":        entry,
		"supervisord":   entry,
		"supervisorctl": entry,
	})
}

func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:   "testdata",
		Setup: setup,
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"waitstate":    cmdWaitState,
			"savepid":      cmdSavePID,
			"sigpid":       cmdSigPID,
			"waitgone":     cmdWaitGone,
			"waitfile":     cmdWaitFile,
			"stalesocket":  cmdStaleSocket,
			"notifysocket": cmdNotifySocket,
			"waitmatch":    cmdWaitMatch,
			"waitnewpid":   cmdWaitNewPID,
			"freeport":     cmdFreePort,
			"installbin":   cmdInstallBin,
			"countprocs":   cmdCountProcs,
			"killprocs":    cmdKillProcs,
			"seqlines":     cmdSeqLines,
			"rotatedsizes": cmdRotatedSizes,
			"settle":       cmdSettle,
			"atleast":      cmdAtLeast,
			"fdcount":      cmdFDCount,
			"rpcstorm":     cmdRPCStorm,
			"hupstorm":     cmdHUPStorm,
			"waitrunning":  cmdWaitRunning,
			"mounttmpfs":   cmdMountTmpfs,
			"httpget":      cmdHTTPGet,
			"nspid1":       cmdNSPID1,
			"zombies":      cmdZombies,
			"countmatch":   cmdCountMatch,
			"exitsright":   cmdExitsRight,
			"framedlines":  cmdFramedLines,
			"exitstatus":   cmdExitStatus,
		},
		Condition: func(cond string) (bool, error) {
			switch cond {
			case "pysupervisorctl":
				_, err := os.Stat(pythonSupervisorctl)
				return err == nil, nil
			case "root":
				return os.Getuid() == 0, nil
			case "tmpfs":
				return canMountTmpfs(), nil
			}
			return false, nil
		},
	})
}

// setup gives each script a short unix socket path ($SOCK, in the private
// directory $SOCKDIR: $WORK can be too long for sun_path) and makes sure no
// daemon a script started outlives it.
func setup(env *testscript.Env) error {
	dir, err := os.MkdirTemp("", "drv")
	if err != nil {
		return err
	}
	env.Setenv("SOCKDIR", dir)
	env.Setenv("SOCK", filepath.Join(dir, "s.sock"))
	env.Defer(func() {
		// Scripts keep the pidfile in $WORK, or in $SOCKDIR when the
		// daemon runs as another user.
		stopLeftoverDaemon(filepath.Join(env.WorkDir, "supervisord.pid"))
		stopLeftoverDaemon(filepath.Join(dir, "supervisord.pid"))
		os.RemoveAll(dir)
	})
	return nil
}

// stopLeftoverDaemon stops a daemon whose script failed before stopping it:
// SIGTERM (it stops its programs), then SIGKILL after a generous delay.
func stopLeftoverDaemon(pidfile string) {
	data, err := os.ReadFile(pidfile)
	if err != nil {
		return
	}
	pid, err := strconv.Atoi(string(trimNewline(data)))
	// A daemon that was PID 1 of a namespace wrote 1: never signal init.
	if err != nil || pid <= 1 || syscall.Kill(pid, syscall.SIGTERM) != nil {
		return
	}
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if !alive(pid) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	syscall.Kill(pid, syscall.SIGKILL)
}

func trimNewline(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}
