package probe

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/reaper"
)

// Run performs c once; nil means it passed. ctx bounds the attempt.
func Run(ctx context.Context, c config.Check) error {
	switch c.Kind {
	case config.CheckTCP:
		conn, err := dial(ctx, c.Addr)
		if err != nil {
			return err
		}
		return conn.Close()
	case config.CheckHTTP:
		return httpGet(ctx, c.URL)
	case config.CheckRedis:
		return redisPing(ctx, c)
	case config.CheckCommand:
		return command(ctx, c.Argv)
	}
	return fmt.Errorf("unknown check kind %q", c.Kind)
}

func dial(ctx context.Context, addr string) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, "tcp", addr)
}

// client does not keep idle connections: a probe every second must not
// hold sockets open on the service it checks.
var client = &http.Client{Transport: &http.Transport{DisableKeepAlives: true, Proxy: http.ProxyFromEnvironment}}

func httpGet(ctx context.Context, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return nil
}

// redisPing sends AUTH (when a password is set) and PING, and wants PONG:
// a server still loading its data set answers -LOADING and is not ready.
func redisPing(ctx context.Context, c config.Check) error {
	conn, err := dial(ctx, c.Addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	if d, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(d)
	} else {
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	}
	r := bufio.NewReader(conn)
	roundTrip := func(want string, args ...string) error {
		var b strings.Builder
		fmt.Fprintf(&b, "*%d\r\n", len(args))
		for _, a := range args {
			fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
		}
		if _, err := io.WriteString(conn, b.String()); err != nil {
			return err
		}
		line, err := r.ReadString('\n')
		if err != nil {
			return err
		}
		if line = strings.TrimRight(line, "\r\n"); line != want {
			return fmt.Errorf("redis %s: %s", args[0], strconv.Quote(line))
		}
		return nil
	}
	if c.Password != "" {
		if err := roundTrip("+OK", "AUTH", c.Password); err != nil {
			return err
		}
	}
	return roundTrip("+PONG", "PING")
}

func command(ctx context.Context, argv []string) error {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	// A check that leaves a child holding its output must not hang the gate.
	cmd.WaitDelay = time.Second
	// Started through the reaper, so that a daemon reaping orphans leaves
	// this child to cmd.Wait.
	pid, err := reaper.Start(func() (int, error) {
		if err := cmd.Start(); err != nil {
			return 0, err
		}
		return cmd.Process.Pid, nil
	})
	if err != nil {
		return err
	}
	defer reaper.Done(pid)
	return cmd.Wait()
}
