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

// AutoPath creates an empty AUTO log file
// <dir>/<processName>-<channel>---<identifier>-<8 random chars>.log with mode
// 0600 (like mkstemp) and returns its path. channel is "stdout" or "stderr".
func AutoPath(dir, processName, channel, identifier string) (string, error) {
	prefix := fmt.Sprintf("%s-%s---%s-", processName, channel, identifier)
	for range 100 {
		path := filepath.Join(dir, prefix+randomName(8)+".log")
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("create auto log: %w", err)
		}
		if err := f.Close(); err != nil {
			return "", fmt.Errorf("create auto log: %w", err)
		}
		return path, nil
	}
	return "", fmt.Errorf("create auto log %s*.log in %s: %w", prefix, dir, fs.ErrExist)
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
