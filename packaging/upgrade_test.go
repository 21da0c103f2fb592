package packaging_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// upgradeScript installs the first package with dpkg, starts the daemon
// (no systemd: as the maintainer scripts must work without it) with two
// programs, then installs the second package, then the first again (a
// downgrade), printing the status and the daemon's build after each step.
// It runs in a private mount namespace where /usr, /etc and /var are
// overlays and /run a tmpfs, with its own dpkg database, so the machine's
// packages (Debian's supervisor, which drover's conflicts with) are untouched.
const upgradeScript = `set -eu
T=$1 DEB1=$2 DEB2=$3
for d in usr etc var; do
	mkdir -p "$T/ov/$d/up" "$T/ov/$d/work"
	mount -t overlay overlay -o "lowerdir=/$d,upperdir=$T/ov/$d/up,workdir=$T/ov/$d/work" "/$d" || exit 77
done
mount -t tmpfs tmpfs /run
rm -rf /etc/supervisor # the machine's, if any: this is a fresh install
admin=$T/dpkg
mkdir -p "$admin/info" "$admin/updates"
: > "$admin/status"
step() { echo "== $1"; supervisorctl status; supervisorctl version --drover; }
dpkg --admindir="$admin" -i "$DEB1" >/dev/null
printf '[program:sleeper]\ncommand=sleep 1000\nnumprocs=2\nprocess_name=%%(program_name)s_%%(process_num)s\n[program:ticker]\ncommand=sh -c "while :; do date; sleep 0.1; done"\n' > /etc/supervisor/conf.d/test.conf
supervisord -c /etc/supervisor/supervisord.conf
i=0; until supervisorctl status 2>/dev/null | grep -c RUNNING | grep -q 3; do i=$((i+1)); [ $i -lt 100 ] || exit 1; sleep 0.1; done
step installed
dpkg --admindir="$admin" -i "$DEB2"
step upgraded
dpkg --admindir="$admin" -i "$DEB1"
step downgraded
supervisorctl shutdown >/dev/null
`

// A package upgrade (dpkg -i of a newer .deb while programs run) execs the
// new binary in place: every program keeps its pid, the daemon reports the
// new version; a downgrade within the same state format works the same way.
func TestDebUpgradeKeepsPrograms(t *testing.T) {
	for _, tool := range []string{"dpkg", "unshare", "mount"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skip(tool + " not installed")
		}
	}
	if os.Getuid() != 0 {
		t.Skip("needs root (dpkg, mount namespaces)")
	}
	deb1, _ := buildDebVersion(t, "1.0.0")
	deb2, _ := buildDebVersion(t, "2.0.0")
	dir := t.TempDir()
	script := filepath.Join(dir, "upgrade.sh")
	if err := os.WriteFile(script, []byte(upgradeScript), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("unshare", "--mount", "--propagation", "private", "sh", script, dir, deb1, deb2)
	out, err := cmd.CombinedOutput()
	text := string(out)
	if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() == 77 {
		t.Skip("no overlay mounts here: " + text)
	}
	if err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	steps := map[string]string{}
	for _, part := range strings.Split(text, "== ")[1:] {
		name, body, _ := strings.Cut(part, "\n")
		steps[name] = body
	}
	pidRe := regexp.MustCompile(`(?m)^(\S+)\s+RUNNING\s+pid (\d+),`)
	pids := func(step string) map[string]string {
		m := map[string]string{}
		for _, p := range pidRe.FindAllStringSubmatch(steps[step], -1) {
			m[p[1]] = p[2]
		}
		return m
	}
	first := pids("installed")
	if len(first) != 3 {
		t.Fatalf("want 3 programs RUNNING after the install:\n%s", text)
	}
	for step, version := range map[string]string{"installed": "1.0.0", "upgraded": "2.0.0", "downgraded": "1.0.0"} {
		if !strings.Contains(steps[step], "drover "+version+"\n") {
			t.Errorf("%s: the daemon does not report drover %s:\n%s", step, version, steps[step])
		}
		for name, pid := range pids(step) {
			if first[name] != pid {
				t.Errorf("%s: %s has pid %s, had %s at the install", step, name, pid, first[name])
			}
		}
		if n := len(pids(step)); n != 3 {
			t.Errorf("%s: %d programs RUNNING, want 3:\n%s", step, n, steps[step])
		}
	}
	if !strings.Contains(text, "drover: upgraded: drover 2.0.0 is running, no program restarted") {
		t.Errorf("dpkg -i of the newer package did not report the upgrade:\n%s", text)
	}
}
