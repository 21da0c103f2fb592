package config

import (
	"fmt"
	"strings"
)

// servers reads [inet_http_server*] then [unix_http_server*] sections, in
// Supervisor's order (inet errors are reported first). Only unix "file"
// may use %(here)s; other values get ENV_* expansions alone.
func (l *loader) servers() error {
	for _, section := range l.ini.Order {
		if !strings.HasPrefix(section, "inet_http_server") {
			continue
		}
		r := l.reader(section, nil)
		s := InetHTTPServer{Section: section}
		s.Username, s.Password = l.auth(r)
		if r.err == nil && !r.has("port") {
			return l.sectionErr(section, fmt.Sprintf("section [%s] has no port value", section))
		}
		port := r.str("port", "")
		if r.err == nil {
			var err error
			if s.Host, s.Port, err = parsePort(port); err != nil {
				r.fail("port", err)
			}
		}
		if r.err != nil {
			return r.err
		}
		l.cfg.InetHTTPServers = append(l.cfg.InetHTTPServers, s)
	}
	for _, section := range l.ini.Order {
		if !strings.HasPrefix(section, "unix_http_server") {
			continue
		}
		if _, ok := l.ini.get(section, "file"); !ok {
			return l.sectionErr(section, fmt.Sprintf("section [%s] has no file value", section))
		}
		r := l.reader(section, vars{"here": l.here})
		s := UnixHTTPServer{Section: section, File: normalizePath(strings.TrimSpace(r.str("file", ""))),
			Chmod: 0o700, ChownUID: -1, ChownGID: -1}
		r.extra = nil
		s.Username, s.Password = l.auth(r)
		if r.has("chown") {
			chown := r.str("chown", "")
			if r.err == nil {
				var err error
				if s.ChownUID, s.ChownGID, err = userGroup(chown); err != nil {
					r.fail("chown", fmt.Errorf("Invalid sockchown value %s", chown))
				}
			}
		}
		if r.has("chmod") {
			chmod := r.str("chmod", "")
			if m, err := parseOctal(chmod); err != nil {
				r.fail("chmod", fmt.Errorf("Invalid chmod value %s", chmod))
			} else {
				s.Chmod = uint32(m)
			}
		}
		if r.err != nil {
			return r.err
		}
		l.cfg.UnixHTTPServers = append(l.cfg.UnixHTTPServers, s)
	}
	return nil
}

// auth reads username/password, which must be given together.
func (l *loader) auth(r *reader) (string, string) {
	user, pass := r.str("username", ""), r.str("password", "")
	if r.err == nil && r.has("username") != r.has("password") {
		r.err = l.sectionErr(r.section, fmt.Sprintf("Section [%s] contains incomplete authentication: "+
			"If a username or a password is specified, both the username and password must be specified", r.section))
	}
	return user, pass
}
