package e2e

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// cmdHTTPGet is `httpget [-u user:password] url`: it prints the status code
// on the first line of stdout and the body after it.
func cmdHTTPGet(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! httpget")
	}
	var auth string
	if len(args) > 2 && args[0] == "-u" {
		auth, args = args[1], args[2:]
	}
	if len(args) != 1 {
		ts.Fatalf("usage: httpget [-u user:password] url")
	}
	req, err := http.NewRequest("GET", args[0], nil)
	ts.Check(err)
	if user, pass, ok := strings.Cut(auth, ":"); ok {
		req.SetBasicAuth(user, pass)
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	ts.Check(err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	ts.Check(err)
	fmt.Fprintf(ts.Stdout(), "%d\n%s", resp.StatusCode, body)
}
