package logs

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
)

// autoNameChars are the characters of Python tempfile's random names.
const autoNameChars = "abcdefghijklmnopqrstuvwxyz0123456789_"

// AutoName returns the name of a new AUTO log file,
// <dir>/<processName>-<channel>---<identifier>-<8 random chars>.log, as
// Supervisor's mkstemp makes it; channel is "stdout" or "stderr". The file
// is not created here: a ChildLog with CreateAuto creates it soon after.
func AutoName(dir, processName, channel, identifier string) string {
	return filepath.Join(dir, fmt.Sprintf("%s-%s---%s-%s.log", processName, channel, identifier, randomName(8)))
}

func randomName(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = autoNameChars[int(b[i])%len(autoNameChars)]
	}
	return string(b)
}

// autoPattern matches AUTO logs (and their rotations) of identifier, with
// Supervisor's regex applied with re.match (anchored at the start only). The
// identifier is quoted, where Supervisor inserts it raw.
func autoPattern(identifier string) *regexp.Regexp {
	return regexp.MustCompile(`^.+?---` + regexp.QuoteMeta(identifier) + `-\S+\.log\.?\d{0,4}`)
}

// CleanupAuto deletes the AUTO log files of identifier in dir (done at every
// start and reload unless nocleanup). It keeps going past files it cannot
// remove and returns all the errors joined.
func CleanupAuto(dir, identifier string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("clean childlogdir: %w", err)
	}
	re := autoPattern(identifier)
	var errs []error
	for _, e := range entries {
		if !re.MatchString(e.Name()) {
			continue
		}
		if err := os.Remove(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
