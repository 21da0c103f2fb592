package health

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/drover/drover/internal/client"
	"github.com/drover/drover/internal/config"
)

// checkTimeout bounds one healthcheck: a daemon that does not answer in
// that time is not healthy.
const checkTimeout = 10 * time.Second

// maxBody bounds what is kept of the daemon's answer.
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
	c := client.New(ctl.ServerURL, ctl.Username, ctl.Password)
	defer c.Close()
	var body strings.Builder
	err = c.Stream(ctx, endpoint, &limitedWriter{&body, maxBody})
	var he *client.HTTPError
	switch {
	case errors.As(err, &he):
		fmt.Fprintf(stderr, "%s: %v\n%s", ctl.ServerURL, err, he.Body)
		return 1
	case err != nil:
		fmt.Fprintf(stderr, "%s: %v\n", ctl.ServerURL, err)
		return 1
	}
	io.WriteString(stdout, body.String())
	return 0
}

// limitedWriter keeps at most n bytes and fails beyond: an answer that
// long is not one of the daemon's.
type limitedWriter struct {
	w *strings.Builder
	n int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if l.w.Len()+len(p) > l.n {
		return 0, fmt.Errorf("answer longer than %d bytes", l.n)
	}
	return l.w.Write(p)
}
