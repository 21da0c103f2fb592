package logs

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// quick is the 30-byte file of the spec's tailProcessStdoutLog examples;
// the expected values below were produced by Supervisor 4.2.5's tailFile
// and readFile on this content.
const quick = "the quick brown fox jumps out\n"

func writeFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "quick.log")
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestRead(t *testing.T) {
	path := writeFile(t, quick)
	tests := []struct {
		offset, length int64
		want           string
		err            error
	}{
		{0, 0, quick, nil},
		{4, 5, "quick", nil},
		{25, 100, " out\n", nil},
		{-4, 0, "out\n", nil},
		{-100, 0, quick, nil},
		{100, 0, "", nil},
		{100, 5, "", nil},
		{-4, 1, "", ErrBadArguments},
		{0, -1, "", ErrBadArguments},
	}
	for _, tt := range tests {
		got, err := Read(path, tt.offset, tt.length)
		if !errors.Is(err, tt.err) || string(got) != tt.want {
			t.Errorf("Read(%d, %d) = %q, %v; want %q, %v", tt.offset, tt.length, got, err, tt.want, tt.err)
		}
	}
	if _, err := Read(path+".missing", -4, 1); !errors.Is(err, ErrNoFile) {
		t.Errorf("missing file: %v, want ErrNoFile", err)
	}
}

func TestTail(t *testing.T) {
	path := writeFile(t, quick)
	tests := []struct {
		offset, length int64
		want           string
		size           int64
		overflow       bool
	}{
		{0, 3, "ut\n", 30, true},
		{100, 3, "", 30, false},
		{0, 30, quick, 30, false},
		{0, 100, quick, 30, false},
		{27, 3, "ut\n", 30, false},
		{20, 100, quick, 30, false}, // offset+length > size: last min(length,size) bytes
		{10, 5, " out\n", 30, true}, // overflow: the last length bytes
		{30, 3, "", 30, false},
	}
	for _, tt := range tests {
		got, size, overflow, err := Tail(path, tt.offset, tt.length)
		if err != nil || string(got) != tt.want || size != tt.size || overflow != tt.overflow {
			t.Errorf("Tail(%d, %d) = %q, %d, %v, %v; want %q, %d, %v",
				tt.offset, tt.length, got, size, overflow, err, tt.want, tt.size, tt.overflow)
		}
	}
	got, size, overflow, err := Tail(path+".missing", 5, 3)
	if len(got) != 0 || size != 0 || overflow || err != nil {
		t.Errorf("missing file: %q, %d, %v, %v", got, size, overflow, err)
	}
}
