package config

import (
	"fmt"
	"strings"
)

// servers reads [inet_http_server*] then [unix_http_server*] sections, in
// Supervisor's order (inet errors are reported first).
func (l *loader) servers() error {
	for _, section := range l.ini.Order {
		if !strings.HasPrefix(section, "inet_http_server") {
			continue
		}
		user, pass, err := l.auth(section)
		if err != nil {
			return err
		}
		port, pv, err := l.value(section, "port", "", nil)
		if err != nil {
			return err
		}
		if pv == nil {
			return l.sectionErr(section, fmt.Sprintf("section [%s] has no port value", section))
		}
		host, n, err := parsePort(port)
		if err != nil {
			return l.errAt(pv, section, "port", err)
		}
		l.cfg.InetHTTPServers = append(l.cfg.InetHTTPServers,
			InetHTTPServer{Section: section, Host: host, Port: n, Username: user, Password: pass})
	}
	for _, section := range l.ini.Order {
		if !strings.HasPrefix(section, "unix_http_server") {
			continue
		}
		file, fv, err := l.value(section, "file", "", vars{"here": l.here})
		if err != nil {
			return err
		}
		if fv == nil {
			return l.sectionErr(section, fmt.Sprintf("section [%s] has no file value", section))
		}
		s := UnixHTTPServer{Section: section, File: normalizePath(strings.TrimSpace(file)), Chmod: 0o700, ChownUID: -1, ChownGID: -1}
		if s.Username, s.Password, err = l.auth(section); err != nil {
			return err
		}
		chown, cv, err := l.value(section, "chown", "", nil)
		if err != nil {
			return err
		}
		if cv != nil {
			if s.ChownUID, s.ChownGID, err = userGroup(chown); err != nil {
				return l.errAt(cv, section, "chown", fmt.Errorf("Invalid sockchown value %s", chown))
			}
		}
		chmod, mv, err := l.value(section, "chmod", "", nil)
		if err != nil {
			return err
		}
		if mv != nil {
			m, err := parseOctal(chmod)
			if err != nil {
				return l.errAt(mv, section, "chmod", fmt.Errorf("Invalid chmod value %s", chmod))
			}
			s.Chmod = uint32(m)
		}
		l.cfg.UnixHTTPServers = append(l.cfg.UnixHTTPServers, s)
	}
	return nil
}

// auth reads username/password, which must be given together.
func (l *loader) auth(section string) (string, string, error) {
	user, uv, err := l.value(section, "username", "", nil)
	if err != nil {
		return "", "", err
	}
	pass, pv, err := l.value(section, "password", "", nil)
	if err != nil {
		return "", "", err
	}
	if (uv == nil) != (pv == nil) {
		return "", "", l.sectionErr(section, fmt.Sprintf("Section [%s] contains incomplete authentication: "+
			"If a username or a password is specified, both the username and password must be specified", section))
	}
	return user, pass, nil
}
