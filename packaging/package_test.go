package packaging_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// buildDeb builds the binary and the package into a temp dir and returns the
// .deb path and the binary path.
func buildDeb(t *testing.T) (deb, bin string) { return buildDebVersion(t, "1.2.3") }

// buildDebVersion is buildDeb of version (the binary's build and the package's).
func buildDebVersion(t *testing.T, version string) (deb, bin string) {
	t.Helper()
	if _, err := exec.LookPath("dpkg-deb"); err != nil {
		t.Skip("dpkg-deb not installed")
	}
	dir := t.TempDir()
	bin = filepath.Join(dir, "drover")
	build := exec.Command("go", "build", "-o", bin, "-ldflags", "-X github.com/drover/drover/internal/version.Build="+version, "../cmd/drover")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command("sh", "build-deb.sh", bin, version, filepath.Join(dir, "dist")).CombinedOutput()
	if err != nil {
		t.Fatalf("build-deb.sh: %v\n%s", err, out)
	}
	return strings.TrimSpace(string(out)), bin
}

func TestDebContents(t *testing.T) {
	deb, _ := buildDeb(t)
	list, err := exec.Command("dpkg-deb", "-c", deb).Output()
	if err != nil {
		t.Fatalf("dpkg-deb -c: %v", err)
	}
	for _, want := range []string{
		"./usr/bin/drover",
		"./usr/bin/supervisord -> drover",
		"./usr/bin/supervisorctl -> drover",
		"./etc/supervisor/supervisord.conf",
		"./etc/supervisor/conf.d/",
		"./var/log/supervisor/",
		"./lib/systemd/system/drover.service",
	} {
		if !strings.Contains(string(list), want) {
			t.Errorf("package lacks %q; contents:\n%s", want, list)
		}
	}
	for field, want := range map[string]string{
		"Package":   "drover",
		"Version":   "1.2.3",
		"Provides":  "supervisor",
		"Conflicts": "supervisor",
		"Replaces":  "supervisor",
	} {
		got, err := exec.Command("dpkg-deb", "-f", deb, field).Output()
		if err != nil {
			t.Fatalf("dpkg-deb -f %s: %v", field, err)
		}
		if strings.TrimSpace(string(got)) != want {
			t.Errorf("control %s = %q, want %q", field, strings.TrimSpace(string(got)), want)
		}
	}
	conffiles := extractControl(t, deb, "conffiles")
	if strings.TrimSpace(conffiles) != "/etc/supervisor/supervisord.conf" {
		t.Errorf("conffiles = %q", conffiles)
	}
}

func extractControl(t *testing.T, deb, name string) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("dpkg-deb", "-e", deb, dir).CombinedOutput(); err != nil {
		t.Fatalf("dpkg-deb -e: %v\n%s", err, out)
	}
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestUnitFileVerifies runs systemd-analyze verify on the unit, with
// ExecStart pointed at a freshly built binary (the tool checks it exists).
func TestUnitFileVerifies(t *testing.T) {
	sa, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze not installed")
	}
	_, bin := buildDeb(t)
	unit, err := os.ReadFile("drover.service")
	if err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(string(unit), "/usr/bin/drover", bin)
	for _, want := range []string{"Type=notify", "KillMode=mixed", "ExecReload=/bin/kill -HUP $MAINPID", "Alias=supervisor.service"} {
		if !strings.Contains(text, want) {
			t.Errorf("unit lacks %q", want)
		}
	}
	path := filepath.Join(t.TempDir(), "drover.service")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(sa, "verify", path).CombinedOutput()
	if err != nil {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
}
