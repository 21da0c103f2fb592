package httpmux

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

func text(s string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, s+" "+User(r))
	})
}

func get(t *testing.T, h http.Handler, path string, user, pass string) (int, string) {
	t.Helper()
	req := httptest.NewRequest("GET", path, nil)
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

func TestRoutes(t *testing.T) {
	m := New()
	m.HandlePrefix("/log", text("log"))
	m.HandlePrefix("/logtail", text("logtail"))
	m.Handle("/logtail/exact", text("exact"))
	m.HandleOpen("/healthz", text("health"))
	h := m.Handler(nil)
	for path, want := range map[string]string{
		"/logtail/x":     "logtail ",
		"/logtailx":      "logtail ",
		"/logfile":       "log ",
		"/logtail/exact": "exact ",
		"/healthz":       "health ",
	} {
		if code, body := get(t, h, path, "", ""); code != 200 || body != want {
			t.Errorf("%s: %d %q, want %q", path, code, body, want)
		}
	}
	if code, _ := get(t, h, "/healthz/x", "", ""); code != 404 {
		t.Errorf("an exact path matched a longer one: %d", code)
	}
	if code, _ := get(t, h, "/", "", ""); code != 404 {
		t.Errorf("unknown path: %d", code)
	}
}

func TestAuthOnceForAllRoutes(t *testing.T) {
	m := New()
	m.Handle("/metrics", text("metrics"))
	m.HandleOpen("/healthz", text("health"))
	h := m.Handler(&Auth{Username: "u", Password: "p"})
	for _, path := range []string{"/metrics", "/nosuch"} {
		if code, _ := get(t, h, path, "", ""); code != 401 {
			t.Errorf("%s without credentials: %d, want 401", path, code)
		}
		if code, _ := get(t, h, path, "u", "x"); code != 401 {
			t.Errorf("%s with a wrong password: %d, want 401", path, code)
		}
	}
	if code, body := get(t, h, "/metrics", "u", "p"); code != 200 || body != "metrics u" {
		t.Errorf("authenticated: %d %q", code, body)
	}
	if code, _ := get(t, h, "/nosuch", "u", "p"); code != 404 {
		t.Errorf("authenticated unknown path: %d, want 404", code)
	}
	if code, body := get(t, h, "/healthz", "", ""); code != 200 || body != "health " {
		t.Errorf("open route: %d %q", code, body)
	}
}

func TestTakeOver(t *testing.T) {
	m := New()
	if old := m.Handle("/", text("status")); old != nil {
		t.Fatal("replaced something on an empty mux")
	}
	old := m.Handle("/", text("dashboard"))
	if _, body := get(t, old, "/", "", ""); body != "status " {
		t.Errorf("replaced handler: %q", body)
	}
	if _, body := get(t, m.Handler(nil), "/", "", ""); body != "dashboard " {
		t.Errorf("new handler not served: %q", body)
	}
	m.HandlePrefix("/p", text("one"))
	if old := m.HandlePrefix("/p", text("two")); old == nil {
		t.Error("HandlePrefix did not return the replaced handler")
	}
	if _, body := get(t, m.Handler(nil), "/px", "", ""); body != "two " {
		t.Errorf("prefix take-over: %q", body)
	}
}
