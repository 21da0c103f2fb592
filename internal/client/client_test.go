package client

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/drover/drover/internal/wire"
	"github.com/drover/drover/internal/xmlrpc"
)

// serve answers every request with body (a raw XML-RPC response) on a unix
// socket, after checking basic auth when user is set, and returns its URL.
// net/http sends a body of more than 4 KB in chunks, without a
// Content-Length.
func serve(t *testing.T, user, pass, body string) string {
	t.Helper()
	return serveLength(t, user, pass, body, false)
}

// serveLength is serve, sending a Content-Length with every answer when
// withLength is set.
func serveLength(t *testing.T, user, pass, body string, withLength bool) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "s.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, _ := r.BasicAuth(); user != "" && (u != user || p != pass) {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, "who are you?")
			return
		}
		if r.URL.Path == "/RPC2" {
			if _, _, err := xmlrpc.DecodeCall(r.Body); err != nil {
				t.Errorf("bad call: %v", err)
			}
		}
		if withLength {
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		}
		io.WriteString(w, body)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "unix://" + sock
}

func TestProcessInfoDecodes(t *testing.T) {
	url := serve(t, "", "", `<?xml version="1.0"?><methodResponse><params><param><value><struct>
<member><name>name</name><value><string>p0001</string></value></member>
<member><name>group</name><value><string>g</string></value></member>
<member><name>state</name><value><int>20</int></value></member>
<member><name>statename</name><value>RUNNING</value></member>
<member><name>pid</name><value><int>42</int></value></member>
<member><name>spawnerr</name><value><string></string></value></member>
</struct></value></param></params></methodResponse>`)
	p, err := New(url, "", "").ProcessInfo(t.Context(), "g:p0001")
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "p0001" || p.StateName != "RUNNING" || p.State != wire.ProcessRunning || p.PID != 42 || p.Namespec() != "g:p0001" {
		t.Errorf("got %+v", p)
	}
}

func TestFaultsMatchByCode(t *testing.T) {
	url := serve(t, "", "", `<?xml version="1.0"?><methodResponse><fault><value><struct>
<member><name>faultCode</name><value><int>1001</int></value></member>
<member><name>faultString</name><value><string>FAILED: cannot roll: no surge</string></value></member>
</struct></value></fault></methodResponse>`)
	err := New(url, "", "").RollingRestart(t.Context(), "w", 1)
	var f *Fault
	if !errors.Is(err, ErrCannotRoll) || errors.Is(err, ErrFailed) || !errors.As(err, &f) || f.String != "FAILED: cannot roll: no surge" {
		t.Errorf("err = %v, want the CANNOT_ROLL fault", err)
	}
	if FaultCode(err) != wire.FaultCannotRoll || FaultCode(errors.New("x")) != 0 {
		t.Error("FaultCode does not read the code")
	}
}

func TestBasicAuth(t *testing.T) {
	url := serve(t, "user", "secret", `<?xml version="1.0"?><methodResponse><params><param><value><string>3.0</string></value></param></params></methodResponse>`)
	_, err := New(url, "", "").APIVersion(t.Context())
	var he *HTTPError
	if !errors.As(err, &he) || he.Code != http.StatusUnauthorized || he.Reason != "Unauthorized" || he.Body != "who are you?" {
		t.Errorf("without credentials: %v, want HTTP 401", err)
	}
	if v, err := New(url, "user", "secret").APIVersion(t.Context()); err != nil || v != "3.0" {
		t.Errorf("with credentials: %q, %v", v, err)
	}
}

func TestStream(t *testing.T) {
	url := serve(t, "", "", "line one\nline two\n")
	var out strings.Builder
	if err := New(url, "", "").Stream(t.Context(), "/logtail/p/stdout", &out); err != nil || out.String() != "line one\nline two\n" {
		t.Errorf("stream = %q, %v", out.String(), err)
	}
}

func TestUnknownScheme(t *testing.T) {
	_, err := New("ftp://x", "", "").Call(t.Context(), "supervisor.getPID")
	var ue *URLError
	if !errors.As(err, &ue) || err.Error() != "Unknown protocol for serverurl ftp://x" {
		t.Errorf("err = %v", err)
	}
}

func TestResultsAndPools(t *testing.T) {
	url := serve(t, "", "", `<?xml version="1.0"?><methodResponse><params><param><value><array><data>
<value><struct><member><name>group</name><value><string>w</string></value></member>
<member><name>scaling</name><value><boolean>1</boolean></value></member>
<member><name>workers</name><value><int>3</int></value></member>
<member><name>oldest_wait</name><value><int>7</int></value></member>
<member><name>name</name><value><string>w_0</string></value></member>
<member><name>status</name><value><int>80</int></value></member></struct></value>
</data></array></value></param></params></methodResponse>`)
	c := New(url, "", "")
	pools, err := c.Pools(t.Context())
	if err != nil || len(pools) != 1 || pools[0].Group != "w" || !pools[0].Scaling || pools[0].Workers != 3 || pools[0].OldestWait != 7 {
		t.Errorf("pools = %+v, %v", pools, err)
	}
	rs, err := c.Results(t.Context(), "supervisor.startProcessGroup", "w")
	if err != nil || len(rs) != 1 || rs[0].Status != wire.FaultSuccess || rs[0].Name != "w_0" {
		t.Errorf("results = %+v, %v", rs, err)
	}
}

func TestGetKeepsTheBodyOfARefusal(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "s.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/readyz" {
			io.WriteString(w, "ok\n")
			return
		}
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, "web:web_00 is STARTING\n")
	})}
	go srv.Serve(ln)
	defer srv.Close()
	c := New("unix://"+sock, "", "")
	if data, err := c.Get(t.Context(), "/healthz", 1024); err != nil || string(data) != "ok\n" {
		t.Errorf("/healthz = %q, %v", data, err)
	}
	_, err = c.Get(t.Context(), "/readyz", 1024)
	var he *HTTPError
	if !errors.As(err, &he) || he.Code != http.StatusServiceUnavailable || he.Body != "web:web_00 is STARTING\n" {
		t.Errorf("/readyz: %#v, want a 503 with its body", err)
	}
}

// A large answer decodes the same whether or not the server says its
// length (the client sizes its buffer from it), and Exchange returns it
// byte for byte.
func TestLargeAnswerWithAndWithoutLength(t *testing.T) {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0"?><methodResponse><params><param><value><array><data>`)
	const n = 300
	for i := range n {
		fmt.Fprintf(&b, `<value><struct><member><name>name</name><value><string>p%04d</string></value></member>
<member><name>group</name><value><string>g</string></value></member><member><name>pid</name><value><int>%d</int></value></member>
<member><name>description</name><value><string>pid %d, uptime 0:00:0%d &amp; more</string></value></member></struct></value>
`, i, 1000+i, 1000+i, i%10)
	}
	b.WriteString(`</data></array></value></param></params></methodResponse>`)
	body := b.String()
	var raw bytes.Buffer
	for _, withLength := range []bool{false, true} {
		c := New(serveLength(t, "", "", body, withLength), "", "")
		ps, err := c.AllProcessInfo(t.Context())
		if err != nil {
			t.Fatalf("length %v: %v", withLength, err)
		}
		if len(ps) != n || ps[n-1].Name != "p0299" || ps[n-1].PID != 1299 || ps[n-1].Description != "pid 1299, uptime 0:00:09 & more" {
			t.Errorf("length %v: %d processes, last %+v", withLength, len(ps), ps[len(ps)-1])
		}
		for range 2 { // the second reuses the buffer
			raw.Reset()
			err := c.Exchange(t.Context(), &raw, "supervisor.getAllProcessInfo")
			if err != nil || raw.String() != body {
				t.Errorf("length %v: Exchange gave %d bytes (want %d), %v", withLength, raw.Len(), len(body), err)
			}
		}
	}
}
