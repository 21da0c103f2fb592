package container

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/drover/drover/tests/laravelenv"
)

const example = "../../examples/docker"

// standIns are the programs of the image, played by shell scripts that
// behave as the real ones do on their stop signals. dir is where they live.
func standIns(dir string) map[string]string {
	return map[string]string{
		"php-fpm": `#!/bin/sh
if [ -e ` + dir + `/php-fpm.fail ]; then echo "php-fpm stand-in: cannot start"; exit 1; fi
trap 'echo "php-fpm stand-in: graceful stop"; exit 0' QUIT
echo "php-fpm stand-in ready"
while :; do sleep 0.1; done
`,
		"nginx": `#!/bin/sh
trap 'echo "nginx stand-in: graceful stop"; exit 0' QUIT
echo "nginx stand-in ready: $*"
while :; do sleep 0.1; done
`,
		"php": `#!/bin/sh
case "$2" in
queue:work) trap 'echo "queue:work stand-in: job finished, stopping"; exit 0' TERM
	echo "queue:work stand-in: processing jobs as $(id -un)" ;;
schedule:work) trap 'echo "schedule:work stand-in: stopping"; exit 0' TERM
	echo "schedule:work stand-in: running" ;;
*) echo "unexpected: $*"; exit 2 ;;
esac
while :; do sleep 0.1; done
`,
	}
}

// manifest reads the grace period and the preStop command of the
// Kubernetes example.
func manifest(t *testing.T) (grace string, preStop []string) {
	data, err := os.ReadFile(filepath.Join(example, "kubernetes.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`terminationGracePeriodSeconds: (\d+)`).FindSubmatch(data)
	if m == nil {
		t.Fatal("kubernetes.yaml sets no terminationGracePeriodSeconds")
	}
	grace = string(m[1]) + "s"
	m = regexp.MustCompile(`(?s)preStop:\s*exec:\s*(?:#[^\n]*\n\s*)*command: (\[[^\n]*\])`).FindSubmatch(data)
	if m == nil {
		t.Fatal("kubernetes.yaml has no preStop exec command")
	}
	// A YAML flow sequence of quoted strings is a JSON array.
	if err := json.Unmarshal(m[1], &preStop); err != nil {
		t.Fatalf("preStop command %s: %v", m[1], err)
	}
	return grace, preStop
}

// The Dockerfile copies files that exist, and the config it installs as
// /etc/supervisor/supervisord.conf is the one its CMD and HEALTHCHECK name.
func TestDockerfile(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(example, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	copies := regexp.MustCompile(`(?m)^COPY --from=drover (\S+) (\S+)$`).FindAllSubmatch(data, -1)
	installed := map[string]string{}
	for _, c := range copies {
		if string(c[1]) == "." {
			continue
		}
		if _, err := os.Stat(filepath.Join("../..", string(c[1]))); err != nil {
			t.Errorf("Dockerfile copies %s: %v", c[1], err)
		}
		installed[string(c[2])] = string(c[1])
	}
	if installed["/etc/supervisor/supervisord.conf"] != "examples/docker/supervisord.conf" {
		t.Errorf("the image's /etc/supervisor/supervisord.conf is %q, want examples/docker/supervisord.conf", installed["/etc/supervisor/supervisord.conf"])
	}
	for _, want := range []string{
		`CMD ["drover", "daemon", "-n", "-c", "/etc/supervisor/supervisord.conf"]`,
		`CMD ["drover", "healthcheck", "-c", "/etc/supervisor/supervisord.conf"]`,
	} {
		if !bytes.Contains(data, []byte(want)) {
			t.Errorf("Dockerfile lacks %s", want)
		}
	}
}

func TestExampleAsPID1(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root (a PID namespace, workers as www-data)")
	}
	if reason := laravelenv.MissingTool("", "unshare"); reason != "" {
		t.Skip(reason)
	}
	drover, remove, err := laravelenv.DroverBin("drover-ct", os.Getenv("DROVER_BIN"))
	if err != nil {
		t.Fatal(err)
	}
	defer remove()
	dir := laravelenv.TempDir(t, "ct")
	// www-data runs the stand-in php from here.
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "bin")
	app := filepath.Join(dir, "app")
	for _, d := range []string{bin, app} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for name, script := range standIns(dir) {
		if err := os.WriteFile(filepath.Join(bin, name), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, link := range []string{"drover", "supervisorctl"} {
		if err := os.Symlink(drover, filepath.Join(bin, link)); err != nil {
			t.Fatal(err)
		}
	}
	conf, err := os.ReadFile(filepath.Join(example, "supervisord.conf"))
	if err != nil {
		t.Fatal(err)
	}
	// Verbatim but for where it keeps its socket and pidfile, and the app.
	text := strings.NewReplacer("/run/", dir+"/", "/var/www/html", app).Replace(string(conf))
	confPath := filepath.Join(dir, "supervisord.conf")
	if err := os.WriteFile(confPath, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"))
	run := func(args ...string) (string, int) {
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Env = env
		out, _ := cmd.CombinedOutput()
		return string(out), cmd.ProcessState.ExitCode()
	}

	grace, preStop := manifest(t)
	if out, code := run(drover, "check", "--grace", grace, "-c", confPath); code != 0 {
		t.Errorf("drover check --grace %s: exit %d\n%s", grace, code, out)
	}

	stdout := new(lockedBuffer)
	ns := exec.Command("unshare", "--pid", "--fork", "--kill-child", "--mount-proc", drover, "daemon", "-n", "-c", confPath)
	ns.Env, ns.Stdout, ns.Stderr = env, stdout, stdout
	if err := ns.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() {
		ns.Wait()
		close(exited)
	}()
	defer func() {
		select {
		case <-exited:
		default:
			ns.Process.Kill() // --kill-child ends the namespace
			<-exited
		}
		if t.Failed() {
			t.Logf("container output:\n%s", stdout.String())
		}
	}()
	ctl := func(args ...string) (string, int) {
		return run(append([]string{drover, "ctl", "-c", confPath}, args...)...)
	}
	laravelenv.WaitFor(t, "every program RUNNING", 30*time.Second, 100*time.Millisecond, func() bool {
		_, code := ctl("status")
		return code == 0
	})
	laravelenv.WaitFor(t, "the programs' first lines", 10*time.Second, 50*time.Millisecond, func() bool {
		out := stdout.String()
		for _, want := range []string{
			"[php-fpm] php-fpm stand-in ready\n",
			"[nginx] nginx stand-in ready: -g daemon off;\n",
			"[queue-worker_00] queue:work stand-in: processing jobs as www-data\n",
			"[queue-worker_01] queue:work stand-in: processing jobs as www-data\n",
			"[scheduler] schedule:work stand-in: running\n",
		} {
			if !strings.Contains(out, want) {
				return false
			}
		}
		return true
	})

	// The image's HEALTHCHECK and the manifest's probes: ready once every
	// program is RUNNING past its startsecs.
	health := []string{drover, "healthcheck", "-c", confPath}
	laravelenv.WaitFor(t, "drover healthcheck to pass", 20*time.Second, 100*time.Millisecond, func() bool {
		_, code := run(health...)
		return code == 0
	})

	// The preStop hook, as the manifest gives it: the workers stop (each
	// finishing its job), the web tier keeps serving.
	hook := append([]string{}, preStop...)
	for i, a := range hook {
		if a == "/etc/supervisor/supervisord.conf" {
			hook[i] = confPath
		}
	}
	if out, code := run(hook...); code != 0 {
		t.Fatalf("preStop %q: exit %d\n%s", hook, code, out)
	}
	status, _ := ctl("status")
	for _, want := range []string{`(?m)^php-fpm\s+RUNNING`, `(?m)^nginx\s+RUNNING`,
		`(?m)^queue-worker:queue-worker_00\s+STOPPED`, `(?m)^queue-worker:queue-worker_01\s+STOPPED`, `(?m)^scheduler\s+STOPPED`} {
		if !regexp.MustCompile(want).MatchString(status) {
			t.Errorf("after preStop, status lacks %s:\n%s", want, status)
		}
	}
	if !strings.Contains(stdout.String(), "[queue-worker_00] queue:work stand-in: job finished, stopping\n") {
		t.Error("a queue worker did not get its TERM")
	}
	// The workers are ready_required=false: the pod stays ready while it drains.
	if out, code := run(health...); code != 0 {
		t.Errorf("drover healthcheck after the preStop drain: exit %d\n%s", code, out)
	}

	// php-fpm dies and cannot come back: essential, so the container ends,
	// nginx stopped gracefully, with the documented status for FATAL.
	if err := os.WriteFile(filepath.Join(dir, "php-fpm.fail"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, code := ctl("signal", "KILL", "php-fpm"); code != 0 {
		t.Fatalf("signal KILL php-fpm: exit %d\n%s", code, out)
	}
	// While php-fpm fails to come back the container is not ready, and says why.
	laravelenv.WaitFor(t, "healthcheck to name php-fpm", 10*time.Second, 50*time.Millisecond, func() bool {
		out, code := run(health...)
		return code == 1 && strings.Contains(out, "php-fpm")
	})
	select {
	case <-exited:
		if code := ns.ProcessState.ExitCode(); code != 126 {
			t.Errorf("the container exited %d, want 126 (an essential program FATAL)", code)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("the container did not end after its essential php-fpm went FATAL")
	}
	out := stdout.String()
	for _, want := range []string{
		"gave up: php-fpm entered FATAL state",
		"CRIT essential program php-fpm ended (FATAL): shutting down with exit status 126",
		"[nginx] nginx stand-in: graceful stop\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("container output lacks %q", want)
		}
	}
}

// lockedBuffer lets the test read what the daemon is still writing.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
