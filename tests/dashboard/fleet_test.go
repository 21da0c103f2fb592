package dashboard

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/drover/drover/tests/laravelenv"
)

// fleetSection joins a daemon to the fleet on the lab's Redis; every node
// beats every 2 s: stale after 4 s without a beat, gone after 6 s, so the
// page (which reads the fleet every second) sees each state.
func fleetSection(name string) string {
	return fmt.Sprintf(`
[fleet]
redis_url=redis://127.0.0.1:{redis}/0
node_name=%s
labels=role=worker
heartbeat_interval=2
key_prefix=dashfleet:
`, name)
}

// startFleetNode starts a further drover daemon, without programs, in the
// lab's fleet; SIGKILL its process to make it die.
func startFleetNode(t *testing.T, l *lab, name string) *exec.Cmd {
	t.Helper()
	dir := laravelenv.TempDir(t, "drvfleet-"+name)
	conf := laravelenv.ConfHeader(filepath.Join(dir, "s.sock"), filepath.Join(dir, "main.log"), dir) + fleetSection(name)
	conf = strings.ReplaceAll(conf, "{redis}", strconv.Itoa(l.redis.Port))
	path := filepath.Join(dir, "supervisord.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(droverBin, "daemon", "-n", "-c", path)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ended := make(chan struct{})
	go func() { cmd.Wait(); close(ended) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-ended:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
		}
	})
	return cmd
}

// nodeStateOf is the expression of the state shown for a node.
func nodeStateOf(name string) string {
	return fmt.Sprintf(`(document.querySelector('#nodes tr[data-node=%q] .node-state') || {}).textContent`, name)
}

// TestFleetPage: the dashboard's fleet page shows nodes as they join, live;
// a node's processes on a click; and a SIGKILLed node turning stale, then
// gone, without a reload.
func TestFleetPage(t *testing.T) {
	l := newLab(t)
	l.start(programs + fleetSection("web1"))
	b := newBrowser(t)

	b.do(chromedp.Navigate(l.url + "/"))
	b.waitJS("the fleet link", `!document.getElementById('fleet-link').hidden`, 30*time.Second)
	if href := eval[string](b, `document.getElementById('fleet-link').href`); href != l.url+"/dashboard/fleet" {
		t.Errorf("the fleet link goes to %s", href)
	}
	b.do(chromedp.Navigate(l.url + "/dashboard/fleet"))
	b.waitJS("the fleet stream to connect", `document.getElementById('conn').textContent === 'live'`, 30*time.Second)
	b.waitJS("web1 up", nodeStateOf("web1")+` === 'up'`, 30*time.Second)
	b.do(chromedp.Evaluate[chromedp.Void](`window.notReloaded = true`))

	// Two nodes join: they appear on the open page.
	startFleetNode(t, l, "n2")
	n3 := startFleetNode(t, l, "n3")
	b.waitJS("n2 and n3 appear up", nodeStateOf("n2")+` === 'up' && `+nodeStateOf("n3")+` === 'up'`, 30*time.Second)
	if got := eval[string](b, `document.getElementById('t-up').textContent`); got != "3" {
		t.Errorf("nodes up tile shows %q, want 3", got)
	}
	for _, want := range []string{"RUNNING", "role=worker"} {
		if !eval[bool](b, fmt.Sprintf(`document.querySelector('#nodes tr[data-node="web1"]').textContent.includes(%q)`, want)) {
			t.Errorf("web1's row lacks %q", want)
		}
	}
	// The scaling pool's queue figures, once it has sampled its list.
	b.waitJS("web1's worker pool with its queue figures",
		`/worker: .*; queue ready \d+, due 0, delayed 0, in flight \d+, expired 0, oldest wait \d+ s/.test(`+
			`document.querySelector('#nodes tr[data-node="web1"] .pools').textContent)`, 30*time.Second)
	if v := eval[string](b, `document.querySelector('#nodes tr[data-node="web1"] .version').textContent`); v == "" {
		t.Errorf("web1's row shows no version")
	}
	if !eval[bool](b, `/ago$/.test(document.querySelector('#nodes tr[data-node="web1"] .beat').textContent)`) {
		t.Errorf("web1's row shows no last beat")
	}

	// Drill into web1: its groups and processes, from its snapshot.
	b.do(chromedp.Click(chromedp.CSS(`#nodes tr[data-node="web1"] .node-open`)))
	b.waitJS("web1's processes", `!document.getElementById('node').hidden && `+
		`(document.querySelector('#node-procs tr[data-process="sleeper:sleeper_0"] .state') || {}).textContent === 'RUNNING'`, 10*time.Second)
	if !eval[bool](b, `!!document.querySelector('#node-procs tr[data-group="worker"]') && document.querySelector('#node-procs tr[data-group="worker"]').textContent.includes('workers')`) {
		t.Errorf("web1's worker pool is not shown in its detail")
	}

	// n3 dies: stale, then gone, on the open page.
	if err := n3.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	b.waitJS("n3 stale", nodeStateOf("n3")+` === 'stale'`, 30*time.Second)
	b.waitJS("n3 gone", nodeStateOf("n3")+` === 'gone'`, 30*time.Second)
	if got := eval[string](b, nodeStateOf("n2")); got != "up" {
		t.Errorf("n2 shows %q after n3's death", got)
	}
	if !eval[bool](b, `window.notReloaded === true`) {
		t.Fatal("the page was reloaded")
	}
}
