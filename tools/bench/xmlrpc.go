package main

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// rpcClient is a minimal XML-RPC client over a unix socket, enough for the
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

// rpcFault is an XML-RPC fault response.
type rpcFault struct {
	Code   int
	String string
}

func (f *rpcFault) Error() string { return fmt.Sprintf("fault %d: %s", f.Code, f.String) }

// call invokes method with params (string, bool or int) and returns the
// decoded result: string, int, bool, float64, []any or map[string]any.
func (c *rpcClient) call(ctx context.Context, method string, params ...any) (any, error) {
	body, err := c.exchange(ctx, method, params...)
	if err != nil {
		return nil, err
	}
	v, err := decodeResponse(bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("call %s: %w", method, err)
	}
	return v, nil
}

// exchange sends one call and returns the whole response body, undecoded:
// timing it measures the server, not this client's XML decoder.
func (c *rpcClient) exchange(ctx context.Context, method string, params ...any) ([]byte, error) {
	body, err := encodeCall(method, params...)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://localhost/RPC2", bytes.NewReader(body))
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

func encodeCall(method string, params ...any) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0"?><methodCall><methodName>`)
	xml.EscapeText(&b, []byte(method))
	b.WriteString(`</methodName><params>`)
	for _, p := range params {
		b.WriteString(`<param><value>`)
		switch v := p.(type) {
		case string:
			b.WriteString(`<string>`)
			xml.EscapeText(&b, []byte(v))
			b.WriteString(`</string>`)
		case bool:
			if v {
				b.WriteString(`<boolean>1</boolean>`)
			} else {
				b.WriteString(`<boolean>0</boolean>`)
			}
		case int:
			b.WriteString(`<int>` + strconv.Itoa(v) + `</int>`)
		default:
			return nil, fmt.Errorf("encode call %s: unsupported parameter type %T", method, p)
		}
		b.WriteString(`</value></param>`)
	}
	b.WriteString(`</params></methodCall>`)
	return b.Bytes(), nil
}

// decodeResponse parses a methodResponse into its single value, or a *rpcFault.
func decodeResponse(r io.Reader) (any, error) {
	d := xml.NewDecoder(r)
	for {
		tok, err := d.Token()
		if err != nil {
			return nil, fmt.Errorf("decode response: %w", err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		switch se.Name.Local {
		case "value":
			return decodeValue(d)
		case "fault":
			if err := skipTo(d, "value"); err != nil {
				return nil, err
			}
			v, err := decodeValue(d)
			if err != nil {
				return nil, err
			}
			m, _ := v.(map[string]any)
			code, _ := m["faultCode"].(int)
			s, _ := m["faultString"].(string)
			return nil, &rpcFault{Code: code, String: s}
		}
	}
}

func skipTo(d *xml.Decoder, name string) error {
	for {
		tok, err := d.Token()
		if err != nil {
			return fmt.Errorf("decode response: %w", err)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == name {
			return nil
		}
	}
}

// decodeValue decodes the content of a <value> whose start tag was consumed,
// through its end tag.
func decodeValue(d *xml.Decoder) (any, error) {
	var text strings.Builder
	var result any
	typed := false
	for {
		tok, err := d.Token()
		if err != nil {
			return nil, fmt.Errorf("decode value: %w", err)
		}
		switch t := tok.(type) {
		case xml.CharData:
			text.Write(t)
		case xml.StartElement:
			typed = true
			result, err = decodeTyped(d, t.Name.Local)
			if err != nil {
				return nil, err
			}
		case xml.EndElement:
			if !typed {
				return text.String(), nil // untyped value is a string
			}
			return result, nil
		}
	}
}

func decodeTyped(d *xml.Decoder, kind string) (any, error) {
	switch kind {
	case "struct":
		m := map[string]any{}
		for {
			tok, err := d.Token()
			if err != nil {
				return nil, fmt.Errorf("decode struct: %w", err)
			}
			switch t := tok.(type) {
			case xml.EndElement:
				if t.Name.Local == "struct" {
					return m, nil
				}
			case xml.StartElement:
				if t.Name.Local != "member" {
					continue
				}
				var name string
				for {
					tok, err := d.Token()
					if err != nil {
						return nil, fmt.Errorf("decode member: %w", err)
					}
					if se, ok := tok.(xml.StartElement); ok {
						if se.Name.Local == "name" {
							var s string
							if err := d.DecodeElement(&s, &se); err != nil {
								return nil, fmt.Errorf("decode member name: %w", err)
							}
							name = s
							continue
						}
						if se.Name.Local == "value" {
							v, err := decodeValue(d)
							if err != nil {
								return nil, err
							}
							m[name] = v
							break
						}
					}
				}
			}
		}
	case "array":
		var a []any
		for {
			tok, err := d.Token()
			if err != nil {
				return nil, fmt.Errorf("decode array: %w", err)
			}
			switch t := tok.(type) {
			case xml.EndElement:
				if t.Name.Local == "array" {
					if a == nil {
						a = []any{}
					}
					return a, nil
				}
			case xml.StartElement:
				if t.Name.Local == "value" {
					v, err := decodeValue(d)
					if err != nil {
						return nil, err
					}
					a = append(a, v)
				}
			}
		}
	default:
		var s string
		se := xml.StartElement{Name: xml.Name{Local: kind}}
		if err := d.DecodeElement(&s, &se); err != nil {
			return nil, fmt.Errorf("decode %s: %w", kind, err)
		}
		switch kind {
		case "int", "i4", "i8":
			n, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil {
				return nil, fmt.Errorf("decode %s: %w", kind, err)
			}
			return n, nil
		case "boolean":
			return strings.TrimSpace(s) == "1", nil
		case "double":
			f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
			if err != nil {
				return nil, fmt.Errorf("decode double: %w", err)
			}
			return f, nil
		case "nil":
			return nil, nil
		default: // string, base64 and dateTime are kept as text
			return s, nil
		}
	}
}

// processInfo is the part of Supervisor's process info struct the benchmark uses.
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
