package ctl

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/drover/drover/internal/xmlrpc"
)

// dialTimeout bounds connecting to the daemon; RPCs themselves may block
// as long as the daemon takes (start waits startsecs, stop stopwaitsecs).
const dialTimeout = 10 * time.Second

// client is a small XML-RPC client for supervisord's /RPC2 endpoint over
// http:// or unix:// with optional HTTP Basic auth.
type client struct {
	serverURL string // as configured, used in messages
	username  string
	password  string
	base      string // http://host:port (unix sockets use http://localhost)
	http      *http.Client
}

func newClient(serverURL, username, password string) *client {
	c := &client{serverURL: serverURL, username: username, password: password}
	dialer := &net.Dialer{Timeout: dialTimeout}
	transport := &http.Transport{DisableCompression: true}
	if path, ok := strings.CutPrefix(serverURL, "unix://"); ok {
		c.base = "http://localhost"
		transport.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, "unix", path)
		}
	} else if strings.HasPrefix(serverURL, "http://") {
		c.base = strings.TrimRight(serverURL, "/")
		transport.DialContext = dialer.DialContext
	}
	c.http = &http.Client{Transport: transport}
	return c
}

// protocolError is a non-200 HTTP answer to an XML-RPC request.
type protocolError struct {
	code   int
	reason string
}

func (e *protocolError) Error() string {
	return fmt.Sprintf("<ProtocolError for 127.0.0.1/RPC2: %d %s>", e.code, e.reason)
}

func isUnauthorized(err error) bool {
	var pe *protocolError
	return errors.As(err, &pe) && pe.code == http.StatusUnauthorized
}

func isRefused(err error) bool { return errors.Is(err, syscall.ECONNREFUSED) }
func isNoSocket(err error) bool {
	return errors.Is(err, syscall.ENOENT)
}

// faultCode returns the fault code of err, or 0 if err is not a fault.
func faultCode(err error) int {
	var f *xmlrpc.Fault
	if errors.As(err, &f) {
		return f.Code
	}
	return 0
}

func (c *client) newRequest(ctx context.Context, method, path string, body io.Reader) (*http.Request, error) {
	if c.base == "" {
		return nil, &pyError{class: "ValueError", value: "Unknown protocol for serverurl " + c.serverURL, where: pySupervisor + "xmlrpc.py line: 505"}
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return nil, err
	}
	if strings.HasPrefix(c.serverURL, "unix://") {
		req.Host = "localhost"
	}
	if c.username != "" && c.password != "" {
		req.SetBasicAuth(c.username, c.password)
	}
	return req, nil
}

// call performs one XML-RPC call and returns its decoded result; faults are
// returned as *xmlrpc.Fault, HTTP errors as *protocolError.
func (c *client) call(ctx context.Context, method string, params ...any) (any, error) {
	var body bytes.Buffer
	if err := xmlrpc.EncodeCall(&body, method, params...); err != nil {
		return nil, err
	}
	req, err := c.newRequest(ctx, http.MethodPost, "/RPC2", &body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "text/xml")
	req.Header.Set("Accept", "text/xml")
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return nil, &protocolError{resp.StatusCode, strings.TrimPrefix(resp.Status, fmt.Sprint(resp.StatusCode, " "))}
	}
	return xmlrpc.DecodeResponse(resp.Body)
}

// stream GETs path (a /logtail or /mainlogtail URL) and copies the body to
// w until the server closes it or ctx is cancelled.
func (c *client) stream(ctx context.Context, path string, w io.Writer) error {
	req, err := c.newRequest(ctx, http.MethodGet, path, nil)
	if err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return &protocolError{resp.StatusCode, http.StatusText(resp.StatusCode)}
	}
	_, err = io.Copy(w, resp.Body)
	return err
}

// Typed views of decoded XML-RPC values; a missing or mistyped member reads
// as the zero value, as Supervisor's structs always carry every key.

func asInt(v any) int {
	switch n := v.(type) {
	case int:
		return n
	case bool:
		if n {
			return 1
		}
	}
	return 0
}

func asString(v any) string {
	s, _ := v.(string)
	return s
}

func asBool(v any) bool {
	switch b := v.(type) {
	case bool:
		return b
	case int:
		return b != 0
	}
	return false
}

func asStructs(v any) []map[string]any {
	list, _ := v.([]any)
	out := make([]map[string]any, 0, len(list))
	for _, item := range list {
		if m, ok := item.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

// groupNames lists the groups of getAllProcessInfo structs once each, in
// their order.
func groupNames(infos []map[string]any) []string {
	var groups []string
	for _, info := range infos {
		if g := asString(info["group"]); !slices.Contains(groups, g) {
			groups = append(groups, g)
		}
	}
	return groups
}

func asStrings(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, item := range list {
		out = append(out, asString(item))
	}
	return out
}

// faultString returns the fault string of err, or "" if err is not a fault.
func faultString(err error) string {
	var f *xmlrpc.Fault
	if errors.As(err, &f) {
		return f.String
	}
	return ""
}
