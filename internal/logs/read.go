package logs

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// Errors of Read, Clear and Follow; the RPC layer maps them to Supervisor's
// faults NO_FILE, BAD_ARGUMENTS and FAILED.
var (
	ErrNoFile       = errors.New("no log file")
	ErrBadArguments = errors.New("bad arguments")
	ErrFailed       = errors.New("log i/o failed")
)

// Read returns log bytes with readLog's semantics: offset < 0 with length 0
// gives the last -offset bytes; offset < 0 with length != 0, or length < 0,
// is ErrBadArguments; length 0 reads to EOF; otherwise up to length bytes
// from offset. A missing file is ErrNoFile (checked first, as Supervisor
// does); other I/O errors are ErrFailed.
func Read(path string, offset, length int64) ([]byte, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read log %s: %w", path, ErrNoFile)
	}
	if err != nil {
		return nil, fmt.Errorf("read log: %w: %w", ErrFailed, err)
	}
	defer f.Close()
	if (offset < 0 && length != 0) || length < 0 {
		return nil, fmt.Errorf("read log %s: %w", path, ErrBadArguments)
	}
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read log: %w: %w", ErrFailed, err)
	}
	size := st.Size()
	switch {
	case offset < 0:
		offset, length = max(0, size+offset), -offset
	case length == 0:
		length = size - offset
	}
	data, err := readAt(f, offset, min(length, size-offset))
	if err != nil {
		return nil, fmt.Errorf("read log: %w: %w", ErrFailed, err)
	}
	return data, nil
}

// Tail implements tailProcessStdoutLog (Supervisor's tailFile) exactly: size
// is the current file size (the next offset to ask for); overflow is set
// when more than length bytes follow offset, and then the last length bytes
// are returned (which may repeat bytes before offset). A missing file gives
// (empty, 0, false); any other I/O error gives (empty, offset, false), like
// Supervisor. err is never set today and reserved for the future.
func Tail(path string, offset, length int64) (data []byte, size int64, overflow bool, err error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return []byte{}, 0, false, nil
	}
	if err != nil {
		return []byte{}, offset, false, nil
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return []byte{}, offset, false, nil
	}
	size = st.Size()
	if size > offset+length {
		overflow = true
		offset = size - 1
	}
	if offset+length > size {
		if offset > size-1 {
			length = 0
		}
		offset = size - length
	}
	offset, length = max(offset, 0), max(length, 0)
	data, err = readAt(f, offset, min(length, size-offset))
	if err != nil {
		return []byte{}, offset, false, nil
	}
	return data, size, overflow, nil
}

// readAt reads up to n bytes at offset; fewer at EOF.
func readAt(f *os.File, offset, n int64) ([]byte, error) {
	if n <= 0 {
		return []byte{}, nil
	}
	buf := make([]byte, n)
	got, err := f.ReadAt(buf, offset)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return buf[:got], nil
}
