package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
)

// maxConfigBytes bounds one configuration file (the main file or an
// include). Real files are kilobytes; the bound is there so that a mistaken
// or hostile path (/dev/zero, a huge log matched by a glob) is refused
// instead of read until memory runs out. Supervisor has no bound: it dies
// of MemoryError on reread.
const maxConfigBytes = 16 << 20

// limitError says why a file was refused as a configuration file.
type limitError string

func (e limitError) Error() string { return string(e) }

const (
	errNotRegular = limitError("not a regular file")
	errTooLarge   = limitError("larger than 16 MiB")
)

// readConfigFile reads a configuration file whole. It must be a regular
// file of at most maxConfigBytes (a limitError otherwise): a device or a
// pipe may never end. It is opened without blocking, so a FIFO cannot hang
// the reader. A directory fails with EISDIR, as os.ReadFile does.
func readConfigFile(name string) (string, error) {
	f, err := os.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return "", err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", err
	}
	switch {
	case fi.IsDir():
		return "", &os.PathError{Op: "read", Path: name, Err: syscall.EISDIR}
	case !fi.Mode().IsRegular():
		return "", errNotRegular
	}
	// One buffer of the file's size, not io.ReadAll's doubling from 512
	// bytes; it still grows if the file does while it is read.
	var data bytes.Buffer
	data.Grow(int(min(max(fi.Size(), 0), maxConfigBytes)) + bytes.MinRead) // ReadFrom reads to EOF into MinRead free bytes
	if _, err := data.ReadFrom(io.LimitReader(f, maxConfigBytes+1)); err != nil {
		return "", err
	}
	if data.Len() > maxConfigBytes {
		return "", errTooLarge
	}
	return data.String(), nil
}

// readMainFile reads the file supervisord or supervisorctl was given, with
// Supervisor's messages when it is missing or unreadable, and says why when
// it is refused.
func readMainFile(path string) (string, error) {
	if _, err := os.Stat(path); err != nil {
		return "", &Error{Msg: "could not find config file " + path}
	}
	data, err := readConfigFile(path)
	var limit limitError
	if errors.As(err, &limit) {
		return "", &Error{Msg: fmt.Sprintf("could not read config file %s: %v", path, limit)}
	}
	if err != nil {
		return "", &Error{Msg: "could not read config file " + path}
	}
	return data, nil
}
