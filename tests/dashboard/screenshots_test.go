package dashboard

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// A small but busy installation for the pictures of docs/.
const showcase = `
[program:web]
command=sleep 100000
process_name=web_%(process_num)d
numprocs=3
startsecs=0
memory_limit=256MB

[program:scheduler]
command=sleep 100000
startsecs=0

[program:broken]
command=sh -c 'echo "cannot connect to the database" >&2; exit 3'
startretries=1
startsecs=1

[program:mailer]
command=sh -c 'while :; do echo "[2026-12-05 10:00:00][j$$] Processing: App\\Jobs\\SendMail"; sleep 0.4; echo "[2026-12-05 10:00:00][j$$] Processed:  App\\Jobs\\SendMail"; done'
process_name=mailer_%(process_num)d
numprocs=2
numprocs_min=2
numprocs_max=6
scale_queue=redis-list://127.0.0.1:{redis}/0?key=mail
scale_interval=1
scale_cooldown=30
startsecs=0
`

// TestScreenshots saves the dashboard at 1280 px (light and dark) and at a
// phone's 390 px, and the classic status page, into
// $DROVER_DASHBOARD_SCREENSHOTS (docs/ in the repo).
func TestScreenshots(t *testing.T) {
	out := os.Getenv("DROVER_DASHBOARD_SCREENSHOTS")
	if out == "" {
		t.Skip("set DROVER_DASHBOARD_SCREENSHOTS=<dir> to save the screenshots")
	}
	l := newLab(t)
	l.start(showcase)
	args := []string{"RPUSH", "mail"}
	for range 40 {
		args = append(args, "job")
	}
	l.redisCommand(args...)
	b := newBrowser(t)
	shots := []struct {
		file, path    string
		width, height int64
		dark          bool
		log           bool
	}{
		{"dashboard-wide.png", "/", 1280, 900, false, true},
		{"dashboard-dark.png", "/", 1280, 900, true, false},
		{"dashboard-phone.png", "/", 390, 844, false, false},
		{"status-classic.png", "/?message=Process%20web%3Aweb_1%20restarted", 1280, 600, false, false},
	}
	for _, s := range shots {
		scheme := "light"
		if s.dark {
			scheme = "dark"
		}
		if _, err := chromedp.Call(b.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}}); err != nil {
			t.Fatal(err)
		}
		b.do(chromedp.EmulateViewport(s.width, s.height), chromedp.Navigate(l.url+s.path))
		if s.path == "/" {
			b.waitJS("the page", `document.getElementById('conn').textContent === 'live'`, 30*time.Second)
			time.Sleep(12 * time.Second) // jobs per minute and CPU need a few samples
		}
		if w := eval[int64](b, `document.documentElement.scrollWidth`); w > s.width {
			t.Errorf("%s: the page is %d px wide in a %d px window; too wide: %s", s.file, w, s.width, eval[string](b, tooWide(int(s.width))))
		}
		if s.log {
			b.do(chromedp.Click(chromedp.CSS(`tr[data-namespec="mailer:mailer_0"] button[data-log]`)))
			b.waitJS("log lines", `document.getElementById('log').textContent.includes('Processed')`, 10*time.Second)
		}
		png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(out, s.file), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
