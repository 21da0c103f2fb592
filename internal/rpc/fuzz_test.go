package rpc

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/drover/drover/internal/process"
	"github.com/drover/drover/internal/xmlrpc"
)

// Any method, path and body gets an answer that is not a 500, and an
// XML-RPC answer with 200 is a value or a fault.
func FuzzHandler(f *testing.F) {
	f.Fuzz(func(t *testing.T, method, path, body string) {
		h := newTestHandler(newFakeBackend(newFakeProc("g", "a", process.Running), newFakeProc("g", "b", process.Stopped)))
		req, err := http.NewRequest(method, "http://localhost"+path, strings.NewReader(body))
		if err != nil {
			return // not a request a server would parse
		}
		// Log tails follow forever: the client leaves after a moment.
		ctx, cancel := context.WithTimeout(req.Context(), 50*time.Millisecond)
		defer cancel()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req.WithContext(ctx))
		if rec.Code == http.StatusInternalServerError {
			t.Fatalf("%s %q with %q: HTTP 500: %s", method, path, body, rec.Body.String())
		}
		if ctx.Err() != nil {
			return // the client left first (a loaded machine): no answer is owed to it
		}
		if strings.HasPrefix(path, "/RPC2") && rec.Code == http.StatusOK {
			if _, err := xmlrpc.DecodeResponse(rec.Body); err != nil {
				if _, fault := err.(*xmlrpc.Fault); !fault {
					t.Fatalf("%q: answer does not decode: %v", body, err)
				}
			}
		}
	})
}
