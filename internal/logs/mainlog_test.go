package logs

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/drover/drover/internal/config"
)

func openMain(t *testing.T, c MainConfig) *MainLog {
	t.Helper()
	l, err := OpenMain(c)
	if err != nil {
		t.Fatal(err)
	}
	l.now = func() time.Time { return time.Date(2026, 11, 25, 9, 8, 7, 6_999_999, time.Local) }
	t.Cleanup(func() { l.Close() })
	return l
}

func TestMainLogFormatAndLevels(t *testing.T) {
	tests := []struct {
		level config.LogLevel
		want  string // lines expected when the configured level is debug
	}{
		{config.LevelCritical, "2026-11-25 09:08:07,006 CRIT msg 7\n"},
		{config.LevelError, "2026-11-25 09:08:07,006 ERRO msg 7\n"},
		{config.LevelWarn, "2026-11-25 09:08:07,006 WARN msg 7\n"},
		{config.LevelInfo, "2026-11-25 09:08:07,006 INFO msg 7\n"},
		{config.LevelDebug, "2026-11-25 09:08:07,006 DEBG msg 7\n"},
		{config.LevelTrace, ""},
		{config.LevelBlather, ""},
	}
	path := filepath.Join(t.TempDir(), "supervisord.log")
	var stdout bytes.Buffer
	l := openMain(t, MainConfig{Path: path, Level: config.LevelDebug, Stdout: &stdout})
	var want strings.Builder
	for _, tt := range tests {
		if got := l.Enabled(tt.level); got != (tt.want != "") {
			t.Errorf("Enabled(%d) = %v", tt.level, got)
		}
		l.Logf(tt.level, "msg %d", 7)
		want.WriteString(tt.want)
	}
	if got := readString(t, path); got != want.String() {
		t.Errorf("file:\n%s\nwant:\n%s", got, want.String())
	}
	if stdout.String() != want.String() {
		t.Errorf("stdout copy:\n%s\nwant:\n%s", stdout.String(), want.String())
	}
}

func TestMainLogCodesBelowDebug(t *testing.T) {
	var stdout bytes.Buffer
	l := openMain(t, MainConfig{Level: config.LevelBlather, Stdout: &stdout})
	l.Logf(config.LevelTrace, "t")
	l.Logf(config.LevelBlather, "line1\nline2")
	want := "2026-11-25 09:08:07,006 TRAC t\n2026-11-25 09:08:07,006 BLAT line1\nline2\n"
	if stdout.String() != want {
		t.Errorf("got %q, want %q", stdout.String(), want)
	}
}

func TestMainLogRotationReopenClear(t *testing.T) {
	path := filepath.Join(t.TempDir(), "supervisord.log")
	l := openMain(t, MainConfig{Path: path, MaxBytes: 200, Backups: 2, Level: config.LevelInfo})
	for range 20 {
		l.Logf(config.LevelInfo, "%s", strings.Repeat("m", 40))
	}
	for _, name := range []string{path + ".1", path + ".2"} {
		if st, err := os.Stat(name); err != nil || st.Size() < 200 {
			t.Errorf("%s: %v %v", name, st, err)
		}
	}
	if _, err := os.Stat(path + ".3"); err == nil {
		t.Error(".3 exists with backups=2")
	}

	if err := os.Rename(path, path+".rotated"); err != nil {
		t.Fatal(err)
	}
	if err := l.Reopen(); err != nil {
		t.Fatal(err)
	}
	l.Logf(config.LevelWarn, "after reopen")
	if got := readString(t, path); got != "2026-11-25 09:08:07,006 WARN after reopen\n" {
		t.Errorf("after Reopen: %q", got)
	}

	if err := l.Clear(); err != nil {
		t.Fatal(err)
	}
	if got := readString(t, path); got != "" {
		t.Errorf("after Clear: %q", got)
	}
	os.Remove(path)
	if err := l.Clear(); !errors.Is(err, ErrNoFile) {
		t.Errorf("Clear of a missing file: %v, want ErrNoFile", err)
	}
}

func TestMainLogWriteErrorDoesNotPanic(t *testing.T) {
	var stdout bytes.Buffer
	l := openMain(t, MainConfig{Path: "/dev/full", MaxBytes: 10, Level: config.LevelInfo, Stdout: &stdout})
	l.Logf(config.LevelInfo, "lost")
	if l.Err() == nil {
		t.Error("Err() = nil after writing to /dev/full")
	}
	if !strings.HasSuffix(stdout.String(), " INFO lost\n") {
		t.Errorf("stdout copy = %q", stdout.String())
	}
}

// TestMainLogSyslogUnavailableIsNotFatal: logfile=syslog must not stop
// supervisord when there is no syslog daemon; the stdout copy still works.
func TestMainLogSyslogUnavailableIsNotFatal(t *testing.T) {
	var stdout bytes.Buffer
	l := openMain(t, MainConfig{Path: "syslog", Syslog: true, Level: config.LevelInfo, Stdout: &stdout})
	if l.Path() != "" {
		t.Errorf("Path() = %q, want empty for syslog", l.Path())
	}
	l.Logf(config.LevelInfo, "two\nlines")
	if stdout.String() != "2026-11-25 09:08:07,006 INFO two\nlines\n" {
		t.Errorf("stdout copy = %q", stdout.String())
	}
	if err := l.Clear(); !errors.Is(err, ErrNoFile) {
		t.Errorf("Clear with syslog: %v, want ErrNoFile", err)
	}
	if _, err := os.Stat("/dev/log"); err != nil && l.Err() == nil {
		t.Error("no /dev/log but Err() is nil")
	}
}
