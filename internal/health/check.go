package health

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/drover/drover/internal/config"
)

// checkTimeout bounds one healthcheck: a daemon that does not answer in
// that time is not healthy.
const checkTimeout = 10 * time.Second

// maxBody bounds what is read of the daemon's answer.
const maxBody = 64 << 10

// Main is `drover healthcheck [-c file] [--live]`: it asks the daemon that
// the config's [supervisorctl] serverurl names (with its username and
// password, as supervisorctl reads them) for /readyz, or /healthz with --live.
// It returns 0 when the daemon answers 200, else 1 with the reason on
// stderr; 2 for a usage error.
func Main(argv0 string, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("drover healthcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("c", "", "configuration file (default: supervisord's search path)")
	live := fs.Bool("live", false, "only check that the daemon answers (/healthz)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: drover healthcheck [-c file] [--live]\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return 2
	}
	path := *file
	if path == "" {
		var err error
		if path, err = config.FindConfigFile(argv0); err != nil {
			fmt.Fprintf(stderr, "Error: %v\n", err)
			return 1
		}
	}
	// As supervisorctl, a file without [supervisorctl] is an error.
	ctl, _, err := config.LoadCtl(path)
	if err != nil {
		fmt.Fprintf(stderr, "Error: %v\n", err)
		return 1
	}
	endpoint := "/readyz"
	if *live {
		endpoint = "/healthz"
	}
	ctx, cancel := context.WithTimeout(context.Background(), checkTimeout)
	defer cancel()
	body, err := Get(ctx, ctl, endpoint)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", ctl.ServerURL, err)
		return 1
	}
	io.WriteString(stdout, body)
	return 0
}

// Get fetches path from the daemon at ctl.ServerURL (http:// or unix://)
// with ctl's credentials. An answer other than 200 is an error carrying
// the status and the body.
func Get(ctx context.Context, ctl config.Supervisorctl, path string) (string, error) {
	base, transport, err := transportFor(ctl.ServerURL)
	if err != nil {
		return "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
	if err != nil {
		return "", err
	}
	if ctl.Username != "" {
		req.SetBasicAuth(ctl.Username, ctl.Password)
	}
	resp, err := (&http.Client{Transport: transport}).Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%s\n%s", resp.Status, data)
	}
	return string(data), nil
}

func transportFor(serverURL string) (base string, t *http.Transport, err error) {
	t = &http.Transport{DisableKeepAlives: true}
	if path, ok := strings.CutPrefix(serverURL, "unix://"); ok {
		t.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", path)
		}
		return "http://localhost", t, nil
	}
	if strings.HasPrefix(serverURL, "http://") {
		return strings.TrimRight(serverURL, "/"), t, nil
	}
	return "", nil, fmt.Errorf("serverurl %q is neither http:// nor unix://", serverURL)
}
