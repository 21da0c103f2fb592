package logs

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/syslog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/drover/drover/internal/config"
)

// MainConfig describes supervisord's own log.
type MainConfig struct {
	Path     string // "" = no file (stdout/syslog only)
	MaxBytes int64  // 0 = never rotate
	Backups  int
	Level    config.LogLevel
	// Stdout, if set, receives a copy of every line (nodaemon && !silent).
	Stdout io.Writer
	// Syslog sends lines to syslog instead of a file (logfile=syslog);
	// Path is then ignored.
	Syslog bool
}

// MainLog is supervisord's log: `YYYY-MM-DD HH:MM:SS,mmm LEVL message` lines
// filtered by level, written to a rotating file or syslog and optionally
// copied to stdout. It is safe for concurrent use.
type MainLog struct {
	mu     sync.Mutex
	cfg    MainConfig
	file   *rotatingFile // nil when Syslog or Path == ""
	syslog *syslog.Writer
	err    error // last file or syslog error
	now    func() time.Time
}

// levelCodes are Supervisor's 4-letter level names.
var levelCodes = map[config.LogLevel]string{
	config.LevelCritical: "CRIT",
	config.LevelError:    "ERRO",
	config.LevelWarn:     "WARN",
	config.LevelInfo:     "INFO",
	config.LevelDebug:    "DEBG",
	config.LevelTrace:    "TRAC",
	config.LevelBlather:  "BLAT",
}

// OpenMain opens the main log. An unreachable syslog is not fatal (as in
// Supervisor): lines still go to Stdout, Err reports the problem and Reopen
// retries.
func OpenMain(c MainConfig) (*MainLog, error) {
	l := &MainLog{cfg: c, now: time.Now}
	switch {
	case c.Syslog:
		l.dialSyslog()
	case c.Path != "":
		file, err := openRotating(c.Path, c.MaxBytes, c.Backups, false)
		if err != nil {
			return nil, err
		}
		l.file = file
	}
	return l, nil
}

func (l *MainLog) dialSyslog() {
	// An empty tag means the program name, like Python's syslog ident.
	w, err := syslog.New(syslog.LOG_INFO|syslog.LOG_USER, "")
	if err != nil {
		l.err = fmt.Errorf("connect to syslog: %w", err)
		return
	}
	l.syslog, l.err = w, nil
}

// Enabled reports whether lines at level are logged.
func (l *MainLog) Enabled(level config.LogLevel) bool { return level >= l.cfg.Level }

// Logf logs one message at level if Enabled. Multi-line messages are written
// as-is; to syslog each line is sent separately with the full prefix. Write
// errors are not returned (logging must not fail the caller); see Err.
func (l *MainLog) Logf(level config.LogLevel, format string, args ...any) {
	if !l.Enabled(level) {
		return
	}
	msg := fmt.Sprintf(format, args...)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.emit(level, msg)
}

// emit writes one enabled message; l.mu is held.
func (l *MainLog) emit(level config.LogLevel, msg string) {
	prefix := formatPrefix(l.now(), level)
	line := []byte(prefix + msg + "\n")
	if l.file != nil {
		_, err := l.file.write(line)
		l.err = err
	}
	if l.syslog != nil {
		for m := range strings.SplitSeq(strings.TrimRight(msg, "\n"), "\n") {
			if err := l.syslog.Info(prefix + m); err != nil {
				l.err = fmt.Errorf("write syslog: %w", err)
			}
		}
	}
	if l.cfg.Stdout != nil {
		l.cfg.Stdout.Write(line) // a closed stdout must not stop logging
	}
}

func formatPrefix(t time.Time, level config.LogLevel) string {
	code, ok := levelCodes[level]
	if !ok {
		code = fmt.Sprint(int(level))
	}
	return fmt.Sprintf("%s,%03d %s ", t.Format("2006-01-02 15:04:05"), t.Nanosecond()/1e6, code)
}

// Err returns the last error writing the file or syslog, or nil.
func (l *MainLog) Err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}

// Path returns the configured file name ("" for syslog or no file).
func (l *MainLog) Path() string {
	if l.cfg.Syslog {
		return ""
	}
	return l.cfg.Path
}

// Reopen closes the file and opens it again by name (SIGUSR2); for syslog
// it reconnects if the connection had failed.
func (l *MainLog) Reopen() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.file != nil:
		return l.file.reopen()
	case l.cfg.Syslog && l.syslog == nil:
		l.dialSyslog()
		return l.err
	}
	return nil
}

// Clear implements clearLog: it deletes the file and reopens it empty,
// logging "reopening log file" in between as Supervisor does (so that line
// reaches only the deleted file and stdout). A missing file or no file at
// all is ErrNoFile; a failed delete is ErrFailed.
func (l *MainLog) Clear() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.file == nil {
		return fmt.Errorf("clear main log: %w", ErrNoFile)
	}
	if _, err := os.Stat(l.cfg.Path); err != nil {
		return fmt.Errorf("clear main log %s: %w", l.cfg.Path, ErrNoFile)
	}
	if l.file.regular {
		if err := os.Remove(l.cfg.Path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("clear main log: %w: %w", ErrFailed, err)
		}
	}
	if l.Enabled(config.LevelInfo) {
		l.emit(config.LevelInfo, "reopening log file")
	}
	return l.file.reopen()
}

// Close closes the file or syslog connection; later lines go only to Stdout.
func (l *MainLog) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	var err error
	if l.file != nil {
		err = l.file.close()
		l.file = nil
	}
	if l.syslog != nil {
		err = errors.Join(err, l.syslog.Close())
		l.syslog = nil
	}
	return err
}
