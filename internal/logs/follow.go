package logs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"
)

// followInterval is Follow's poll period (Supervisor's tail_f_producer polls
// every 0.1 s).
const followInterval = 100 * time.Millisecond

// truncatedMarker is written when a followed file shrinks.
const truncatedMarker = "==> File truncated <==\n"

// Follow implements /logtail and /mainlogtail: it writes the last backlog
// bytes of path (the whole file if smaller), then polls and writes whatever
// is appended, calling flush (if not nil) after each batch, until ctx is done
// (then it returns nil) or w fails. When the name points at a new inode
// (rotation) it reopens it and sends the new file from its start; when the
// file shrinks (truncation) it writes "==> File truncated <==\n" and sends
// the file from its start. A missing file at the start is ErrNoFile.
func Follow(ctx context.Context, path string, w io.Writer, backlog int64, flush func()) error {
	ff := &followedFile{path: path}
	if err := ff.open(); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("follow log %s: %w", path, ErrNoFile)
		}
		return fmt.Errorf("follow log: %w", err)
	}
	defer func() { ff.f.Close() }()
	st, err := ff.f.Stat()
	if err != nil {
		return fmt.Errorf("follow log: %w", err)
	}
	ff.pos = max(0, st.Size()-max(0, backlog))
	ticker := time.NewTicker(followInterval)
	defer ticker.Stop()
	for {
		wrote, err := ff.step(w)
		if wrote && flush != nil {
			flush()
		}
		if err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		}
	}
}

// followedFile is the open file being followed and how much of it was sent.
type followedFile struct {
	path string
	f    *os.File
	st   os.FileInfo // of f when opened, to detect rotation
	pos  int64
}

func (ff *followedFile) open() error {
	f, err := os.Open(ff.path)
	if err != nil {
		return err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	if ff.f != nil {
		ff.f.Close()
	}
	ff.f, ff.st, ff.pos = f, st, 0
	return nil
}

// step sends what changed since the last step and reports whether it wrote
// anything.
func (ff *followedFile) step(w io.Writer) (bool, error) {
	// A missing name (between rename and re-create) or a failed reopen
	// keeps following the old file until the next poll.
	if st, err := os.Stat(ff.path); err == nil && !os.SameFile(st, ff.st) {
		ff.open()
	}
	st, err := ff.f.Stat()
	if err != nil {
		return false, fmt.Errorf("follow log: %w", err)
	}
	size, wrote := st.Size(), false
	if size < ff.pos {
		ff.pos, wrote = 0, true
		if _, err := io.WriteString(w, truncatedMarker); err != nil {
			return wrote, err
		}
	}
	if size > ff.pos {
		n, err := io.Copy(w, io.NewSectionReader(ff.f, ff.pos, size-ff.pos))
		ff.pos += n
		wrote = true
		if err != nil {
			return wrote, err
		}
	}
	return wrote, nil
}
