package config

import (
	"os"
	"path/filepath"
	"strings"
)

// SearchPaths is §1.1's list of default config locations for a program
// started as argv0, in the order they are tried.
func SearchPaths(argv0 string) []string {
	here := filepath.Dir(filepath.Dir(argv0))
	return []string{
		filepath.Join(here, "etc", "supervisord.conf"),
		filepath.Join(here, "supervisord.conf"),
		"supervisord.conf",
		"etc/supervisord.conf",
		"/etc/supervisord.conf",
		"/etc/supervisor/supervisord.conf",
	}
}

// FindConfigFile returns the first existing default config path. When none
// exists the error reads like Supervisor's (the caller prints "Error: "
// before it); supervisorctl may ignore that error and use defaults.
func FindConfigFile(argv0 string) (string, error) {
	return firstExisting(SearchPaths(argv0))
}

func firstExisting(paths []string) (string, error) {
	for _, p := range paths {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", &Error{Msg: "No config file found at default paths (" + strings.Join(paths, ", ") +
		"); use the -c option to specify a config file at a different path"}
}

func ctlDefaults() Supervisorctl {
	return Supervisorctl{ServerURL: "http://localhost:9001", Prompt: "supervisor"}
}

// LoadCtl reads [supervisorctl] for supervisorctl; [include] is ignored.
// found is false when the file has no [supervisorctl] section, in which
// case err carries Supervisor's message.
func LoadCtl(path string) (Supervisorctl, bool, error) {
	data, err := readMainFile(path)
	if err != nil {
		return ctlDefaults(), false, err
	}
	ini := newINI()
	ini.only = "supervisorctl"
	if err := ini.parse(data, path); err != nil {
		return ctlDefaults(), false, err
	}
	if !ini.has("supervisorctl") {
		return ctlDefaults(), false, &Error{File: path, Msg: ".ini file does not include supervisorctl section"}
	}
	c, err := ctlSection(ini, filepath.Dir(normalizePath(path)), environExpansions())
	return c, true, err
}

// ctlFromINI is ctlSection for a daemon's Config, where [supervisorctl]
// errors do not matter to supervisord: values that fail to expand are kept.
func ctlFromINI(ini *iniFile, here string, env vars) Supervisorctl {
	c, _ := ctlSection(ini, here, env)
	return c
}

func ctlSection(ini *iniFile, here string, env vars) (Supervisorctl, error) {
	const sec = "supervisorctl"
	l := &loader{ini: ini, here: here, env: env}
	c := ctlDefaults()
	var firstErr error
	get := func(opt, def string, extra vars) string {
		v, _, err := l.value(sec, opt, def, extra)
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			if raw, ok := ini.get(sec, opt); ok {
				return raw.Value
			}
			return def
		}
		return v
	}
	c.ServerURL = get("serverurl", c.ServerURL, vars{"here": here})
	if path, ok := strings.CutPrefix(c.ServerURL, "unix://"); ok {
		c.ServerURL = "unix://" + normalizePath(path)
	}
	c.Prompt = get("prompt", c.Prompt, nil)
	c.Username = get("username", "", nil)
	c.Password = get("password", "", nil)
	if h := get("history_file", "", vars{"here": here}); h != "" {
		c.HistoryFile = normalizePath(h)
	}
	return c, firstErr
}
