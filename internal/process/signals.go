package process

import (
	"errors"
	"syscall"

	"github.com/drover/drover/internal/sysnames"
)

// errnoName returns the symbolic errno of err ("ENOENT") as Supervisor's
// child-side messages print it, or err's text when it has none.
func errnoName(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		if n, ok := sysnames.ErrnoName(errno); ok {
			return n
		}
	}
	return err.Error()
}
