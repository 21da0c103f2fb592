package dashboard

import (
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/drover/drover/tests/laravelenv"
)

const programs = `
[program:sleeper]
command=sleep 100000
process_name=sleeper_%(process_num)d
numprocs=2
startsecs=0
autorestart=false
stopwaitsecs=5

[program:feed]
command=tail -n +1 -F {dir}/feed.txt
startsecs=0
stdout_logfile={dir}/feed.log

[program:worker]
command=sleep 100000
process_name=worker_%(process_num)d
numprocs=1
numprocs_max=2
scale_queue=redis-list://127.0.0.1:{redis}/0?key=jobs
scale_interval=1
startsecs=0
`

// TestDashboard drives one daemon and one browser tab through the page's
// features, in order.
func TestDashboard(t *testing.T) {
	l := newLab(t)
	if err := os.WriteFile(filepath.Join(l.dir, "feed.txt"), []byte("first line\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	l.start(programs)
	b := newBrowser(t)

	t.Run("behind basic auth", func(t *testing.T) {
		resp, err := http.Get(l.url + "/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("GET / without credentials: %d, want 401", resp.StatusCode)
		}
		b.do(chromedp.Navigate(l.url + "/"))
		b.waitJS("the stream to connect", `document.getElementById('conn').textContent === 'live'`, 30*time.Second)
		b.waitJS("the processes to show", stateOf("sleeper:sleeper_0")+` === 'RUNNING'`, 10*time.Second)
		if got := eval[string](b, stateOf("feed")); got != "RUNNING" {
			t.Errorf("feed shows %q", got)
		}
	})

	t.Run("a process killed from outside changes state without reload", func(t *testing.T) {
		b.do(chromedp.Evaluate[chromedp.Void](`window.notReloaded = true`))
		pid := l.info("sleeper:sleeper_0").PID
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		// The bound is a correctness bound (a live page, not a reload or a
		// poll of seconds), not a speed claim.
		b.waitJS("EXITED on the page within a second", stateOf("sleeper:sleeper_0")+` === 'EXITED'`, time.Second)
		if !eval[bool](b, `window.notReloaded === true`) {
			t.Fatal("the page was reloaded")
		}
	})

	t.Run("stop, start and restart ask for confirmation and work", func(t *testing.T) {
		const name = "sleeper:sleeper_1"
		row := `tr[data-namespec="` + name + `"] `
		dialogOpen := `document.getElementById('confirm').open`

		// Cancel leaves the process alone.
		b.do(chromedp.Click(chromedp.CSS(row + `button[data-act="stop"]`)))
		b.waitJS("the confirmation", dialogOpen, 5*time.Second)
		if text := eval[string](b, `document.getElementById('confirm-text').textContent`); !strings.Contains(text, name) {
			t.Errorf("confirmation says %q, want the process named", text)
		}
		b.do(chromedp.Click(chromedp.ID("confirm-cancel")))
		b.waitJS("the dialog to close", `!`+dialogOpen, 5*time.Second)
		time.Sleep(500 * time.Millisecond)
		if st := l.info(name).StateName; st != "RUNNING" {
			t.Fatalf("after Cancel %s is %v", name, st)
		}

		b.do(chromedp.Click(chromedp.CSS(row + `button[data-act="stop"]`)))
		b.waitJS("the confirmation", dialogOpen, 5*time.Second)
		b.do(chromedp.Click(chromedp.ID("confirm-ok")))
		b.waitJS("STOPPED on the page", stateOf(name)+` === 'STOPPED'`, 10*time.Second)
		if st := l.info(name).StateName; st != "STOPPED" {
			t.Fatalf("the daemon says %s is %v", name, st)
		}

		// Starting one process is not destructive: no question asked.
		b.do(chromedp.Click(chromedp.CSS(row + `button[data-act="start"]`)))
		b.waitJS("RUNNING on the page", stateOf(name)+` === 'RUNNING'`, 10*time.Second)
		if eval[bool](b, dialogOpen) {
			t.Error("starting one process asked for confirmation")
		}
		pid := l.info(name).PID

		b.do(chromedp.Click(chromedp.CSS(row + `button[data-act="restart"]`)))
		b.waitJS("the confirmation", dialogOpen, 5*time.Second)
		b.do(chromedp.Click(chromedp.ID("confirm-ok")))
		laravelenv.WaitFor(t, "a new pid", 10*time.Second, pollEvery, func() bool {
			info := l.info(name)
			return info.StateName == "RUNNING" && info.PID != pid
		})
		b.waitJS("the new pid on the page", `document.querySelector('tr[data-namespec="`+name+`"]').children[3].textContent !== '`+strconv.Itoa(pid)+`'`, 10*time.Second)

		log, _ := os.ReadFile(l.mainLog)
		for _, want := range []string{"dashboard: admin asked to stop " + name + ": done",
			"dashboard: admin asked to start " + name + ": done", "dashboard: admin asked to restart " + name + ": done"} {
			if !strings.Contains(string(log), want) {
				t.Errorf("main log lacks %q", want)
			}
		}
	})

	t.Run("the log view follows new lines and searches", func(t *testing.T) {
		b.do(chromedp.Click(chromedp.CSS(`tr[data-namespec="feed"] button[data-log]`)))
		logText := `document.getElementById('log').textContent`
		b.waitJS("the backlog", logText+`.includes('first line')`, 10*time.Second)
		f, err := os.OpenFile(filepath.Join(l.dir, "feed.txt"), os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString("fresh marker 42\n")
		f.Close()
		b.waitJS("the new line", logText+`.includes('fresh marker 42')`, 10*time.Second)
		b.do(chromedp.SetValue(chromedp.ID("log-search"), "marker"),
			chromedp.Evaluate[chromedp.Void](`document.getElementById('log-search').dispatchEvent(new Event('input'))`))
		b.waitJS("the search", `document.querySelectorAll('#log mark').length === 1 && !`+logText+`.includes('first line')`, 5*time.Second)
	})

	t.Run("the workload table shows a queue burst", func(t *testing.T) {
		args := []string{"RPUSH", "jobs"}
		for i := range 25 {
			args = append(args, "job"+strconv.Itoa(i))
		}
		if got := l.redisCommand(args...); got != ":25" {
			t.Fatalf("RPUSH: %q", got)
		}
		b.waitJS("25 ready jobs", `(document.querySelector('#work tr[data-group="worker"] .ready') || {}).textContent === '25'`, 20*time.Second)
	})

	t.Run("pool bounds are set from the page, with confirmation", func(t *testing.T) {
		button := `#work tr[data-group="worker"] button[data-act="bounds"]`
		dialogOpen := `document.getElementById('confirm').open`
		// worker_1 is the one the scaler adds and removes: "" while it
		// is not in the group.
		worker1 := func() string {
			info, err := l.rpc.ProcessInfo(t.Context(), "worker:worker_1")
			if err != nil {
				return ""
			}
			return info.StateName
		}
		// The burst grows the pool to its numprocs_max.
		laravelenv.WaitFor(t, "worker_1 RUNNING", 20*time.Second, pollEvery, func() bool { return worker1() == "RUNNING" })
		ask := func(max string) {
			t.Helper()
			b.do(chromedp.Click(chromedp.CSS(button)))
			b.waitJS("the bounds form", dialogOpen+` && !document.getElementById('bounds-row').hidden`, 5*time.Second)
			if got := eval[string](b, `document.getElementById('bounds-min').value + '-' + document.getElementById('bounds-max').value`); got != "1-2" {
				t.Errorf("the form starts at %q, want the pool's 1-2", got)
			}
			b.do(chromedp.SetValue(chromedp.ID("bounds-max"), max), chromedp.Click(chromedp.ID("confirm-ok")))
			b.waitJS("the dialog to close", `!`+dialogOpen, 5*time.Second)
		}

		// Bounds the configuration cannot run are refused by the daemon.
		ask("5")
		b.waitJS("the refusal", `document.getElementById('toast').textContent.includes('BAD_ARGUMENTS')`, 10*time.Second)

		ask("1")
		b.waitJS("1 / 1 / 1 on the page", `document.querySelector('#work tr[data-group="worker"]').children[7].textContent === '1 / 1 / 1'`, 20*time.Second)
		laravelenv.WaitFor(t, "the pool to shrink", 20*time.Second, pollEvery, func() bool { return worker1() != "RUNNING" })
		log, _ := os.ReadFile(l.mainLog)
		if want := "dashboard: admin asked to set bounds [1-1] of group worker: done"; !strings.Contains(string(log), want) {
			t.Errorf("main log lacks %q", want)
		}
	})

	t.Run("fits a phone", func(t *testing.T) {
		b.do(chromedp.EmulateViewport(390, 844))
		b.waitJS("the phone layout", `getComputedStyle(document.querySelector('#procs thead')).display === 'none'`, 5*time.Second)
		if w := eval[int64](b, `document.documentElement.scrollWidth`); w > 390 {
			t.Errorf("the page is %d px wide on a 390 px screen; too wide: %s", w, eval[string](b, tooWide(390)))
		}
		b.do(chromedp.EmulateViewport(1280, 900))
	})

	t.Run("the classic page's action links still work", func(t *testing.T) {
		const name = "sleeper:sleeper_1"
		resp, _ := l.get("/?processname=" + name + "&action=stop")
		if loc := resp.Header.Get("Location"); resp.StatusCode != 301 || !strings.HasSuffix(loc, "/?message=Process%20sleeper%3Asleeper_1%20stopped") {
			t.Fatalf("stop: %d %q", resp.StatusCode, loc)
		}
		if st := l.info(name).StateName; st != "STOPPED" {
			t.Fatalf("after ?action=stop %s is %v", name, st)
		}
		resp, body := l.get("/?message=Process%20sleeper%3Asleeper_1%20stopped")
		if resp.StatusCode != 200 || !strings.Contains(body, "Process sleeper:sleeper_1 stopped") || !strings.Contains(body, "classic.css") {
			t.Fatalf("message page: %d\n%s", resp.StatusCode, body)
		}
		resp, _ = l.get("/index.html?processname=" + name + "&action=start")
		if resp.StatusCode != 301 || l.info(name).StateName != "RUNNING" {
			t.Fatalf("start: %d, %v", resp.StatusCode, l.info(name).StateName)
		}
		if resp, body := l.get("/status"); resp.StatusCode != 200 || !strings.Contains(body, `class="statusrunning"`) {
			t.Fatalf("/status: %d\n%s", resp.StatusCode, body)
		}
		if resp, body := l.get("/dashboard/static/classic.css"); resp.StatusCode != 200 || !strings.Contains(body, ".statuserror") {
			t.Fatalf("stylesheet: %d", resp.StatusCode)
		}
	})
}

// tooWide is an expression naming the first elements that reach beyond
// width (their own scrolling content aside), for the failure message.
func tooWide(width int) string {
	return `[...document.querySelectorAll('body *')].filter(e => !(e.parentElement && e.parentElement.closest('.scroll')) && (e.getBoundingClientRect().right > ` + strconv.Itoa(width) +
		` || e.scrollWidth > ` + strconv.Itoa(width) + `)).slice(0, 8).map(e => e.tagName + '#' + e.id + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right) + '/' + e.scrollWidth).join(', ')`
}
