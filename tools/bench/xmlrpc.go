package main

import (
	"bytes"
	"context"
	"fmt"
	"github.com/drover/drover/internal/xmlrpc"
	"io"
	"net"
	"net/http"
	"time"
)

// rpcClient is a minimal XML-RPC client (Drover's own codec) over a unix socket, enough for the
// calls the benchmark makes of both daemons.
type rpcClient struct {
	http *http.Client
}

func newRPCClient(socket string) *rpcClient {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", socket)
		},
		MaxIdleConnsPerHost: 2,
	}
	return &rpcClient{http: &http.Client{Transport: tr, Timeout: 60 * time.Second}}
}

func (c *rpcClient) close() { c.http.CloseIdleConnections() }

// openStream GETs a path that answers with an endless stream (the
// dashboard's events) on the same socket, with no time limit; close the body
// to end it.
func (c *rpcClient) openStream(ctx context.Context, path string) (io.ReadCloser, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", "http://localhost"+path, nil)
	if err != nil {
		return nil, err
	}
	client := &http.Client{Transport: c.http.Transport}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("open %s: %s", path, resp.Status)
	}
	return resp.Body, nil
}

// call invokes method with params (string, bool or int) and returns the
// decoded result: string, int, bool, float64, []any or map[string]any.
func (c *rpcClient) call(ctx context.Context, method string, params ...any) (any, error) {
	body, err := c.exchange(ctx, method, params...)
	if err != nil {
		return nil, err
	}
	v, err := xmlrpc.DecodeResponse(bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("call %s: %w", method, err)
	}
	return v, nil
}

// exchange sends one call and returns the whole response body, undecoded:
// timing it measures the server, not this client's XML decoder.
func (c *rpcClient) exchange(ctx context.Context, method string, params ...any) ([]byte, error) {
	var body bytes.Buffer
	if err := xmlrpc.EncodeCall(&body, method, params...); err != nil {
		return nil, fmt.Errorf("encode call %s: %w", method, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://localhost/RPC2", &body)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "text/xml")
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("call %s: %w", method, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("call %s: %w", method, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("call %s: http status %d", method, resp.StatusCode)
	}
	return b, nil
}

type processInfo struct {
	Name      string
	StateName string
	PID       int
}

func (c *rpcClient) allProcessInfo(ctx context.Context) ([]processInfo, error) {
	v, err := c.call(ctx, "supervisor.getAllProcessInfo")
	if err != nil {
		return nil, err
	}
	arr, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("getAllProcessInfo: unexpected result %T", v)
	}
	out := make([]processInfo, 0, len(arr))
	for _, e := range arr {
		out = append(out, toProcessInfo(e))
	}
	return out, nil
}

func (c *rpcClient) processInfo(ctx context.Context, name string) (processInfo, error) {
	v, err := c.call(ctx, "supervisor.getProcessInfo", name)
	if err != nil {
		return processInfo{}, err
	}
	return toProcessInfo(v), nil
}

func toProcessInfo(v any) processInfo {
	m, _ := v.(map[string]any)
	var p processInfo
	p.Name, _ = m["name"].(string)
	p.StateName, _ = m["statename"].(string)
	p.PID, _ = m["pid"].(int)
	return p
}
