package handover

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/eventlistener"
	"github.com/drover/drover/internal/guard"
	"github.com/drover/drover/internal/process"
	"github.com/drover/drover/internal/reaper"
	"github.com/drover/drover/internal/supervisor"
	"github.com/drover/drover/internal/version"
)

// injectedFault is empty except in builds made by the tests (link flag
// -X github.com/drover/drover/internal/handover.injectedFault=...): such a
// build passes the dry run but panics in Validate, which is how the tests
// make a new image fail in the middle of a take-over.
var injectedFault string

// Validate is the new image's last check before it adopts anything: Check,
// guarded, so that a panic is a failure FallBack can still recover from.
func Validate(st *State, cfg *config.Config) (err error) {
	if p := guard.Run("take-over check", func() {
		if injectedFault != "" {
			panic("injected fault: " + injectedFault)
		}
		err = Check(st, cfg)
	}); p != nil {
		return p
	}
	return err
}

// FallBack execs the previous image again, on the spawn thread, with the
// same state (every descriptor is still inheritable: nothing was adopted),
// telling it why through EnvFallback. It returns only if that is
// impossible: no previous image, or this image is itself a fallback.
func FallBack(st *State, cause error) error {
	if _, again := os.LookupEnv(EnvFallback); again {
		return errors.New("this image is already a fallback: nothing left to fall back to")
	}
	if st.PreviousExe < 0 {
		return errors.New("the previous image left no executable to fall back to")
	}
	for _, fd := range []int{st.fd, st.PreviousExe} {
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETFD, 0); err != nil {
			return fmt.Errorf("make descriptor %d inheritable: %w", fd, err)
		}
	}
	reason := strings.Join(strings.Fields(cause.Error()), " ")
	env := append(withoutHandoverEnv(os.Environ()), EnvFD+"="+strconv.Itoa(st.fd), EnvFallback+"="+reason)
	return process.ExecOnSpawnThread("/proc/self/fd/"+strconv.Itoa(st.PreviousExe), st.Args, env)
}

// FallbackReason returns why the image this one tried to hand over to gave
// the processes back ("" if it did not), and removes it from the environment.
func FallbackReason() string {
	v := os.Getenv(EnvFallback)
	os.Unsetenv(EnvFallback)
	return v
}

// Adoptions returns what the supervisor adopts, by namespec, and marks
// every handed-over pid owned, so that no orphan reaping takes its exit
// status from its runner. Call it before the reaper starts.
func Adoptions(st *State) map[string]supervisor.Adopted {
	m := make(map[string]supervisor.Adopted, len(st.Processes))
	for _, p := range st.Processes {
		if p.Snapshot.PID > 0 {
			reaper.Adopt(p.Snapshot.PID)
		}
		m[supervisor.Namespec(p.Group, p.Name)] = p.Adopted
	}
	return m
}

// Events is the event listeners' state of st (supervisor.Options.AdoptEvents),
// nil without a take-over or from a build of format 1 or 2.
func Events(st *State) *eventlistener.Handed {
	if st == nil {
		return nil
	}
	return st.Events
}

// CheckMain is the dry run (CheckFlag) on what Receive returned: load is
// the daemon's config loader. It prints checkPassed and this build, or why
// not, and returns the exit status.
func CheckMain(st *State, err error, load func(path string) (*config.Config, error), stdout io.Writer) int {
	fail := func(err error) int {
		fmt.Fprintf(stdout, "take-over refused: %v\n", err)
		return 1
	}
	if err != nil {
		return fail(err)
	}
	if st == nil {
		return fail(fmt.Errorf("%s is not set: no state to check", EnvFD))
	}
	cfg, err := load(st.ConfigFile)
	if err != nil {
		return fail(err)
	}
	if err := Check(st, cfg); err != nil {
		return fail(err)
	}
	fmt.Fprintf(stdout, "%s%s\n", checkPassed, version.Build)
	return 0
}
