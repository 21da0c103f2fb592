package httpmux

import (
	"cmp"
	"context"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// Mux is the route table of the HTTP interface. Features register their
// paths on it before the servers start; Handler then serves the table on one
// server with that server's authentication. Registration is not safe while
// requests are being served.
type Mux struct {
	exact    map[string]route
	prefixes []prefixRoute // longest prefix first
}

type route struct {
	h    http.Handler
	open bool // served without authentication
}

type prefixRoute struct {
	prefix string
	route
}

// New returns an empty Mux: every path answers 404 (after authentication).
func New() *Mux {
	return &Mux{exact: map[string]route{}}
}

// Handle serves path (exactly that path, any query) with h, behind the
// server's authentication. A path registered again is taken over: Handle
// returns the handler it replaced (nil if none), so a feature taking over
// a path can still hand some requests to the old one.
func (m *Mux) Handle(path string, h http.Handler) (replaced http.Handler) {
	return m.set(path, route{h: h})
}

// HandleOpen is Handle for a path served without authentication, for
// probes that cannot send credentials. Whatever it serves must reveal
// nothing about the processes.
func (m *Mux) HandleOpen(path string, h http.Handler) (replaced http.Handler) {
	return m.set(path, route{h: h, open: true})
}

func (m *Mux) set(path string, r route) http.Handler {
	old := m.exact[path]
	m.exact[path] = r
	return old.h
}

// HandlePrefix serves every path starting with prefix (no exact route
// and no longer prefix matching) with h, behind the server's
// authentication, as Supervisor matches "/RPC2" or "/logtail". It returns
// the handler it replaced, as Handle does.
func (m *Mux) HandlePrefix(prefix string, h http.Handler) (replaced http.Handler) {
	i := slices.IndexFunc(m.prefixes, func(p prefixRoute) bool { return p.prefix == prefix })
	if i >= 0 {
		old := m.prefixes[i].h
		m.prefixes[i].h = h
		return old
	}
	m.prefixes = append(m.prefixes, prefixRoute{prefix, route{h: h}})
	slices.SortStableFunc(m.prefixes, func(a, b prefixRoute) int { return cmp.Compare(len(b.prefix), len(a.prefix)) })
	return nil
}

func (m *Mux) match(path string) route {
	if r, ok := m.exact[path]; ok {
		return r
	}
	for _, p := range m.prefixes {
		if strings.HasPrefix(path, p.prefix) {
			return p.route
		}
	}
	return route{}
}

// Auth is HTTP Basic authentication as [unix_http_server] /
// [inet_http_server] configure it.
type Auth struct {
	Username string
	Password string // plain, or "{SHA}" followed by the hex SHA-1 of the password
}

// allows reports whether r carries the configured credentials.
func (a *Auth) allows(r *http.Request) bool {
	user, pass, ok := r.BasicAuth()
	if !ok || user != a.Username {
		return false
	}
	want := a.Password
	if hexSum, isSHA := strings.CutPrefix(want, "{SHA}"); isSHA {
		sum := sha1.Sum([]byte(pass))
		pass, want = hex.EncodeToString(sum[:]), strings.ToLower(hexSum)
	}
	return subtle.ConstantTimeCompare([]byte(pass), []byte(want)) == 1
}

// Handler serves the table on one server. auth nil: no authentication
// (the server has no username). Every route but the open ones needs the
// credentials, checked before the path is looked up, so an unknown path
// answers 401, not 404, to a stranger (Supervisor's behaviour).
func (m *Mux) Handler(auth *Auth) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rt := m.match(r.URL.Path)
		if !rt.open && auth != nil {
			if !auth.allows(r) {
				w.Header().Set("WWW-Authenticate", `Basic realm="default"`)
				w.Header().Set("Connection", "close")
				Error(w, http.StatusUnauthorized)
				return
			}
			r = r.WithContext(context.WithValue(r.Context(), userKey{}, auth.Username))
		}
		if rt.h == nil {
			Error(w, http.StatusNotFound)
			return
		}
		rt.h.ServeHTTP(w, r)
	})
}

type userKey struct{}

// User returns the name the request authenticated with, "" when the
// server has no authentication or the route is open: who to name in the
// main log for an action.
func User(r *http.Request) string {
	u, _ := r.Context().Value(userKey{}).(string)
	return u
}

// Error writes Supervisor's (Medusa's) HTML error page with status code.
func Error(w http.ResponseWriter, code int) {
	w.Header().Set("Content-Type", "text/html")
	w.WriteHeader(code)
	fmt.Fprintf(w, "<head>\r\n<title>Error response</title>\r\n</head>\r\n<body>\r\n<h1>Error response</h1>\r\n<p>Error code %d.\r\n<p>Message: %s.\r\n</body>\r\n", code, http.StatusText(code))
}
