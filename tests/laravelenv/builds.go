package laravelenv

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// BuildDrover links drover from this repo at path with the link flags
// ldflags (e.g. -X github.com/drover/drover/internal/version.Build=x), for
// the upgrade tests, which need two builds.
func BuildDrover(t testing.TB, path string, ldflags ...string) {
	t.Helper()
	cmd := exec.Command("go", "build", "-o", path, "-ldflags", strings.Join(ldflags, " "), "github.com/drover/drover/cmd/drover")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build drover %v: %v\n%s", ldflags, err, b)
	}
}

// Install puts a copy of src at path as a package manager does: a new file
// renamed over the old one, which a running image keeps open.
func Install(t testing.TB, src, path string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path+".new", data, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(path+".new", path); err != nil {
		t.Fatal(err)
	}
}
