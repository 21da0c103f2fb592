package client

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/drover/drover/internal/xmlrpc"
)

// DialTimeout bounds connecting to the daemon; calls themselves may block as
// long as the daemon takes (start waits startsecs, stop stopwaitsecs): bound
// them with the context.
const DialTimeout = 10 * time.Second

// Client calls one daemon. It is safe for concurrent use.
type Client struct {
	serverURL string // as given, for messages
	username  string
	password  string
	base      string // http://host:port; unix sockets use http://localhost
	unix      bool
	http      *http.Client
}

// New returns a client of serverURL, "unix:///path/to.sock" or
// "http://host:port"; with a username and a password it authenticates with
// HTTP basic auth. Another scheme fails every call with *URLError.
func New(serverURL, username, password string) *Client {
	c := &Client{serverURL: serverURL, username: username, password: password}
	dialer := &net.Dialer{Timeout: DialTimeout}
	transport := &http.Transport{DisableCompression: true}
	if path, ok := strings.CutPrefix(serverURL, "unix://"); ok {
		c.base, c.unix = "http://localhost", true
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

// URL returns the server URL the client was made for.
func (c *Client) URL() string { return c.serverURL }

// Close releases idle connections.
func (c *Client) Close() { c.http.CloseIdleConnections() }

func (c *Client) newRequest(ctx context.Context, method, path string, body io.Reader) (*http.Request, error) {
	if c.base == "" {
		return nil, &URLError{URL: c.serverURL}
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return nil, err
	}
	if c.unix {
		req.Host = "localhost"
	}
	if c.username != "" && c.password != "" {
		req.SetBasicAuth(c.username, c.password)
	}
	return req, nil
}

// Call performs one XML-RPC call and returns its decoded result: string,
// int, bool, float64, []byte, time.Time, []any or map[string]any. A fault is
// a *Fault, a non-200 answer an *HTTPError.
func (c *Client) Call(ctx context.Context, method string, args ...any) (any, error) {
	var body strings.Builder
	if err := c.exchange(ctx, copyTo(&body), method, args...); err != nil {
		return nil, err
	}
	v, err := xmlrpc.DecodeResponseString(body.String())
	if err != nil {
		return nil, decodeError(err)
	}
	return v, nil
}

// decodeError is the client's form of a decoding error: a fault is a
// *Fault.
func decodeError(err error) error {
	if f, ok := err.(*xmlrpc.Fault); ok {
		return &Fault{Code: f.Code, String: f.String}
	}
	return err
}

// callStructs performs a call whose result is an array of structs and
// gives their members to member (xmlrpc.DecodeStructArray: a string is
// valid only during the call) as the answer arrives, instead of building
// maps; it returns the number of structs.
func (c *Client) callStructs(ctx context.Context, member func(i int, name string, v xmlrpc.Value), method string, args ...any) (int, error) {
	var n int
	err := c.exchange(ctx, func(body io.Reader, _ int64) error {
		var err error
		n, err = xmlrpc.DecodeStructArray(body, member)
		return decodeError(err)
	}, method, args...)
	return n, err
}

// Exchange sends one call and appends the response body, undecoded (a
// fault is not an error here), to dst: timing it measures the server, not
// the decoder. A dst reused from call to call (Reset) keeps its memory:
// a fresh 0.6 MB buffer per getAllProcessInfo of 500 programs cost the
// caller about 155 page faults, 1.5–2 ms on the benchmark's VM, more
// than the daemon's answer itself.
func (c *Client) Exchange(ctx context.Context, dst *bytes.Buffer, method string, args ...any) error {
	return c.exchange(ctx, copyTo(dst), method, args...)
}

// answerBuffer is where copyTo copies a response body.
type answerBuffer interface {
	io.Writer
	Grow(n int)
}

// maxAnswerHint bounds the memory taken at once for an answer on the word
// of its Content-Length; a longer answer grows the buffer as it arrives.
const maxAnswerHint = 16 << 20

// copyTo returns the reader of exchange that copies a response body into
// dst, sized once from the Content-Length: growing it by doubling as the
// body arrived (io.ReadAll) allocated, zeroed and copied twice the 0.6 MB
// of a getAllProcessInfo of 500 programs, about a tenth of `supervisorctl
// status`'s CPU time.
func copyTo(dst answerBuffer) answerReader {
	return func(body io.Reader, length int64) error {
		if length > 0 {
			dst.Grow(int(min(length, maxAnswerHint)) + bytes.MinRead) // bytes.Buffer reads to EOF into MinRead free bytes
		}
		_, err := io.Copy(dst, body)
		return err
	}
}

// answerReader reads a response body of length bytes (-1: unknown).
type answerReader func(body io.Reader, length int64) error

// exchange sends one call and gives the response body to read.
func (c *Client) exchange(ctx context.Context, read answerReader, method string, args ...any) error {
	var body bytes.Buffer
	if err := xmlrpc.EncodeCall(&body, method, args...); err != nil {
		return err
	}
	req, err := c.newRequest(ctx, http.MethodPost, "/RPC2", &body)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "text/xml")
	req.Header.Set("Accept", "text/xml")
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return newHTTPError(resp)
	}
	return read(resp.Body, resp.ContentLength)
}

// Stream GETs path (a /logtail/... or /mainlogtail URL) and copies the body
// to w until the server closes it or ctx ends.
func (c *Client) Stream(ctx context.Context, path string, w io.Writer) error {
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
		return newHTTPError(resp)
	}
	_, err = io.Copy(w, resp.Body)
	return err
}

// Get fetches path (/healthz, /readyz, /metrics, ...) and returns at most
// limit bytes of its body. An answer other than 200 is an *HTTPError with
// the start of its body.
func (c *Client) Get(ctx context.Context, path string, limit int64) ([]byte, error) {
	req, err := c.newRequest(ctx, http.MethodGet, path, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		he := newHTTPError(resp)
		he.Body = string(data)
		return nil, he
	}
	return data, nil
}

// newHTTPError reads what the server said with a non-200 answer, at most
// 64 KiB (which also lets the connection be reused).
func newHTTPError(resp *http.Response) *HTTPError {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return &HTTPError{Code: resp.StatusCode, Reason: strings.TrimPrefix(resp.Status, fmt.Sprint(resp.StatusCode, " ")),
		Body: string(body)}
}
