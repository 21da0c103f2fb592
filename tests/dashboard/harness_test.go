package dashboard

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/chromedp"
	"github.com/drover/drover/internal/client"
	"github.com/drover/drover/tests/laravelenv"
)

const (
	user     = "admin"
	password = "s3cret"
	// pollEvery paces waits; their bounds are correctness bounds, generous
	// except where the test says what it asserts.
	pollEvery = 50 * time.Millisecond
)

var (
	skipReason string
	droverBin  string
	chromium   string
)

func TestMain(m *testing.M) { os.Exit(runMain(m)) }

func runMain(m *testing.M) int {
	skipReason = laravelenv.MissingTool(" (scripts/install-test-deps.sh installs it)", "redis-server")
	for _, c := range []string{"/usr/bin/chromium", "chromium"} {
		if p, err := exec.LookPath(c); err == nil {
			chromium = p
			break
		}
	}
	if chromium == "" && skipReason == "" {
		skipReason = "chromium not found (scripts/install-test-deps.sh installs it)"
	}
	return laravelenv.RunMain(m, "drover-dashboard-bin", skipReason, &droverBin)
}

// lab is a daemon on a free loopback port with basic auth, and a redis-server.
type lab struct {
	t       *testing.T
	dir     string
	url     string // http://127.0.0.1:port
	mainLog string
	redis   *laravelenv.Redis
	rpc     *client.Client
}

func newLab(t *testing.T) *lab {
	t.Helper()
	if skipReason != "" {
		t.Skip(skipReason)
	}
	dir := laravelenv.TempDir(t, "drvdash")
	l := &lab{t: t, dir: dir, mainLog: filepath.Join(dir, "supervisord.log")}
	l.redis = laravelenv.NewRedis(t, dir)
	l.redis.Start(t, pollEvery)
	return l
}

// start writes the config (the header plus programs, where {dir} and
// {redis} are replaced) and starts the daemon.
func (l *lab) start(programs string) {
	l.t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		l.t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	l.url = "http://127.0.0.1:" + strconv.Itoa(port)
	conf := fmt.Sprintf(`[inet_http_server]
port=127.0.0.1:%d
username=%s
password=%s

[supervisord]
logfile=%s
pidfile={dir}/supervisord.pid
childlogdir={dir}

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface
`, port, user, password, l.mainLog) + programs
	conf = strings.NewReplacer("{dir}", l.dir, "{redis}", strconv.Itoa(l.redis.Port)).Replace(conf)
	path := filepath.Join(l.dir, "supervisord.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		l.t.Fatal(err)
	}
	laravelenv.StartDaemon(l.t, droverBin, path, l.dir, l.mainLog)
	l.rpc = client.New(l.url, user, password)
	l.t.Cleanup(l.rpc.Close)
	laravelenv.WaitFor(l.t, "the daemon to answer", 30*time.Second, pollEvery, func() bool {
		_, err := l.rpc.PID(context.Background())
		return err == nil
	})
}

// get makes an authenticated request without following redirects.
func (l *lab) get(path string) (*http.Response, string) {
	l.t.Helper()
	req, err := http.NewRequest("GET", l.url+path, nil)
	if err != nil {
		l.t.Fatal(err)
	}
	req.SetBasicAuth(user, password)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		l.t.Fatal(err)
	}
	defer resp.Body.Close()
	var body bytes.Buffer
	body.ReadFrom(resp.Body)
	return resp, body.String()
}

// info returns a process's getProcessInfo.
func (l *lab) info(name string) client.ProcessInfo {
	l.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	info, err := l.rpc.ProcessInfo(ctx, name)
	if err != nil {
		l.t.Fatalf("getProcessInfo %s: %v", name, err)
	}
	return info
}

// redisCommand sends one command to redis and returns the first reply line.
func (l *lab) redisCommand(args ...string) string {
	l.t.Helper()
	c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(l.redis.Port))
	if err != nil {
		l.t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(c, "$%d\r\n%s\r\n", len(a), a)
	}
	buf := make([]byte, 256)
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, err := c.Read(buf)
	if err != nil {
		l.t.Fatal(err)
	}
	return strings.TrimSpace(string(buf[:n]))
}

// browser is a headless chromium tab that answers the daemon's basic auth
// challenge as a user typing the password would.
type browser struct {
	t   *testing.T
	ctx context.Context
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	profile := t.TempDir()
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromium),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(profile))
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	b := &browser{t: t, ctx: ctx}
	paused := chromedp.Events(ctx, fetch.RequestPaused)
	challenged := chromedp.Events(ctx, fetch.AuthRequired)
	if _, err := chromedp.Call(ctx, fetch.Enable, fetch.EnableParams{HandleAuthRequests: new(true)}); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	go func() {
		for ev, err := range paused {
			if err != nil {
				return
			}
			chromedp.Call(ctx, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: ev.RequestID})
		}
	}()
	go func() {
		for ev, err := range challenged {
			if err != nil {
				return
			}
			chromedp.Call(ctx, fetch.ContinueWithAuth, fetch.ContinueWithAuthParams{RequestID: ev.RequestID,
				AuthChallengeResponse: &fetch.AuthChallengeResponse{Response: fetch.AuthChallengeResponseResponseProvideCredentials,
					Username: user, Password: password}})
		}
	}()
	return b
}

func (b *browser) do(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.t.Fatal(err)
	}
}

// eval returns the value of a JavaScript expression in the page.
func eval[T any](b *browser, expr string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.t.Fatalf("%s: %v", expr, err)
	}
	return v
}

// waitJS waits until expr is truthy in the page, failing after bound.
func (b *browser) waitJS(what, expr string, bound time.Duration) {
	b.t.Helper()
	_, err := chromedp.Run(b.ctx, chromedp.Poll[chromedp.Void](expr,
		chromedp.WithPollingInterval(pollEvery), chromedp.WithPollingTimeout(bound)))
	if err != nil {
		b.t.Fatalf("waiting %v for %s (%s): %v", bound, what, expr, err)
	}
}

// stateOf is the expression of the state shown for namespec.
func stateOf(namespec string) string {
	return fmt.Sprintf(`(document.querySelector('tr[data-namespec=%q] .state') || {}).textContent`, namespec)
}
