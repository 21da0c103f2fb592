package logs

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"
)

func TestAutoPath(t *testing.T) {
	dir := t.TempDir()
	seen := map[string]bool{}
	name := regexp.MustCompile(`^worker_01-stdout---myident-[a-z0-9_]{8}\.log$`)
	for range 20 {
		path, err := AutoPath(dir, "worker_01", "stdout", "myident")
		if err != nil {
			t.Fatal(err)
		}
		if filepath.Dir(path) != dir || !name.MatchString(filepath.Base(path)) {
			t.Errorf("AutoPath = %q", path)
		}
		st, err := os.Stat(path)
		if err != nil || st.Size() != 0 || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v %v, want empty file with mode 0600", path, st, err)
		}
		if seen[path] {
			t.Errorf("duplicate name %s", path)
		}
		seen[path] = true
	}
	if _, err := AutoPath(filepath.Join(dir, "missing"), "p", "stderr", "id"); err == nil {
		t.Error("AutoPath in a missing directory succeeded")
	}
}

func TestCleanupAuto(t *testing.T) {
	tests := []struct {
		name    string
		removed bool
	}{
		{"worker_01-stdout---supervisor-bryep212.log", true},
		{"worker_01-stderr---supervisor-bryep212.log.1", true},
		{"cat-stdout---supervisor-abc_defg.log.1234", true},
		{"x---supervisor-a.log.bak", true}, // the regex is anchored at the start only
		{"worker-stdout---other-bryep212.log", false},
		{"worker-stdout--supervisor-bryep212.log", false},
		{"---supervisor-bryep212.log", false},
		{"x---supervisor-.log", false},
		{"x---supervisor-abc.txt", false},
		{"x---supervisorX-abc.log", false},
		{"app.log", false},
	}
	dir := t.TempDir()
	for _, tt := range tests {
		if err := os.WriteFile(filepath.Join(dir, tt.name), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := CleanupAuto(dir, "supervisor"); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, e := range entries {
		left = append(left, e.Name())
	}
	for _, tt := range tests {
		if kept := slices.Contains(left, tt.name); kept == tt.removed {
			t.Errorf("%s: kept=%v, want removed=%v", tt.name, kept, tt.removed)
		}
	}
}

func TestCleanupAutoQuotesIdentifier(t *testing.T) {
	if autoPattern("a.b").MatchString("x---aXb-abc.log") {
		t.Error("identifier metacharacters are not quoted")
	}
	if !autoPattern("a.b").MatchString("x---a.b-abc.log") {
		t.Error("quoted identifier does not match itself")
	}
}

// BenchmarkAutoLog measures what an AUTO log costs before the first spawn:
// creating the file and opening it as a child log.
func BenchmarkAutoLog(b *testing.B) {
	dir := b.TempDir()
	for b.Loop() {
		path, err := AutoPath(dir, "worker", "stdout", "supervisor")
		if err != nil {
			b.Fatal(err)
		}
		l, err := OpenChild(ChildConfig{Path: path, MaxBytes: 50 << 20, Backups: 10})
		if err != nil {
			b.Fatal(err)
		}
		l.Close()
	}
}
