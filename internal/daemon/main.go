package daemon

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"slices"

	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/handover"
	"github.com/drover/drover/internal/process"
	"github.com/drover/drover/internal/version"
)

// rootSearchWarning is what Supervisor warns (through Python's warnings
// module, on stderr) when root makes it search for its config file.
const rootSearchWarning = `UserWarning: Supervisord is running as root and it is searching for its configuration file in default locations (including its current working directory); you probably want to specify a "-c" argument specifying an absolute path to a configuration file for improved security.`

// init locks the main goroutine to the main thread (the Go runtime's
// documented way), for Main to make it the spawn thread.
func init() { runtime.LockOSThread() }

// daemonGCPercent is the daemon's GOGC unless the environment sets one.
// Its live heap is small (about 7 KB a program) and, once its programs
// run, it allocates little (nothing when idle), so the default headroom of
// 100 % was most of its peak heap, for GC work it hardly needs: at 50 the
// peak RSS with 2,000 programs is about 3 MB lower (docs/benchmark.md) for
// twice as many collections of a few MB each while programs start.
const daemonGCPercent = 50

// tuneGC sets daemonGCPercent unless GOGC is set in the environment.
func tuneGC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(daemonGCPercent)
	}
}

// Main runs supervisord. args[0] is the program name used in messages
// ("For help, use <args[0]> -h"); the rest are supervisord's options. It
// returns the exit status: 0 after an orderly shutdown (or, when
// daemonizing, once the daemon is up), 2 for usage and startup errors.
func Main(args []string, stdout, stderr io.Writer) int {
	// Children are forked on the main thread, where an upgrade execs:
	// see process.RunWithSpawnThread.
	return process.RunWithSpawnThread(func() int { return daemonMain(args, stdout, stderr) })
}

func daemonMain(args []string, stdout, stderr io.Writer) int {
	tuneGC(os.Getenv)
	argv0 := "supervisord"
	if len(args) > 0 {
		argv0, args = args[0], args[1:]
	}
	fullArgs := os.Args       // the process's own command line, which an upgrade execs again
	exe, _ := os.Executable() // the path as installed, which an upgrade execs
	child := takeDaemonChild()
	dryRun := slices.Contains(args, handover.CheckFlag)
	args = slices.DeleteFunc(args, func(a string) bool { return a == handover.CheckFlag })
	takeover, recvErr := handover.Receive()
	if recvErr != nil && !dryRun {
		fmt.Fprintf(stderr, "Error: take-over: %v\n", recvErr)
		return 2
	}
	opts, action, err := parseFlags(args)
	if err != nil {
		return usageError(stderr, argv0, err)
	}
	switch action {
	case actionHelp:
		io.WriteString(stdout, usage(argv0))
		return 0
	case actionVersion:
		fmt.Fprintln(stdout, version.Supervisor)
		return 0
	}
	// Option values are checked before the config file is searched for.
	if err := config.CheckOverrides(opts.Overrides); err != nil {
		return usageError(stderr, argv0, err)
	}
	if dryRun {
		return handover.CheckMain(takeover, recvErr, func(path string) (*config.Config, error) { return config.Load(path, opts.Overrides) }, stdout)
	}
	if takeover != nil {
		return d0(argv0, fullArgs, exe, opts.Overrides, stdout, stderr).takeOver(takeover)
	}
	path := opts.ConfigFile
	if path == "" {
		if os.Getuid() == 0 {
			fmt.Fprintln(stderr, rootSearchWarning)
		}
		if path, err = config.FindConfigFile(argv0); err != nil {
			return usageError(stderr, argv0, err)
		}
	}
	cfg, err := config.Load(path, opts.Overrides)
	if err != nil {
		return usageError(stderr, argv0, err)
	}
	if child == nil && !cfg.Supervisord.Nodaemon {
		return spawnDaemon(stdout, stderr)
	}
	d := d0(argv0, fullArgs, exe, opts.Overrides, stdout, stderr)
	d.child = child
	return d.run(cfg)
}

// d0 is a daemon before its first instance.
func d0(argv0 string, args []string, exe string, overrides config.Overrides, stdout, stderr io.Writer) *daemon {
	return &daemon{
		argv0:     argv0,
		args:      args,
		exe:       exe,
		overrides: overrides,
		stdout:    stdout,
		stderr:    stderr,
		notify:    newNotifier(),
		baseEnv:   os.Environ(),
		images:    1,
	}
}

// usageError reports err the way Supervisor's usage() does.
func usageError(stderr io.Writer, argv0 string, err error) int {
	fmt.Fprintf(stderr, "Error: %s\nFor help, use %s -h\n", err, argv0)
	return 2
}

// daemon is one supervisord process across its reloads.
type daemon struct {
	argv0 string
	args  []string // the whole command line, to exec an upgrade with
	exe   string   // the executable's path, "" if unknown
	// takeover is the state an upgrade handed to this image, until its
	// first instance adopted it.
	takeover  *handover.State
	fallback  string // why the image this one upgraded to gave the processes back
	images    int    // images this process has run, this one included
	overrides config.Overrides
	stdout    io.Writer
	stderr    io.Writer
	child     *daemonChild // non-nil in a daemonized child until it reported
	notify    notifier
	baseEnv   []string // supervisord's environment at start, for the programs
}

// run supervises with cfg, then with the config validated for each reload,
// until a shutdown. A reload is refused while the config is invalid (see
// supervisor.Supervisor.Restart), so nothing stops for a typo.
func (d *daemon) run(cfg *config.Config) int {
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, handledSignals...)
	defer signal.Stop(sigs)
	for first := true; ; first = false {
		next, code := d.runInstance(cfg, first, sigs)
		if next == nil {
			return code
		}
		cfg = next
	}
}

// load returns the loader for reloads and rereads: the same file (by its
// absolute path, so a daemon's chdir does not matter) and the same
// command-line overrides.
func (d *daemon) load(path string) func() (*config.Config, error) {
	return func() (*config.Config, error) { return config.Load(path, d.overrides) }
}
