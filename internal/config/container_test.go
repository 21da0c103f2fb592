package config

import (
	"strings"
	"testing"
)

func TestContainerOptions(t *testing.T) {
	path := writeConf(t, map[string]string{"supervisord.conf": `[supervisord]
subreaper=true
exit_when_all_done=true

[program:web]
command=/bin/cat
essential=true
stdout_log_prefix="[%(program_name)s:%(process_num)d] "
stderr_log_prefix=[%(program_name)s!]
stderr_log_format=JSON

[program:plain]
command=/bin/cat
`})
	cfg, err := Load(path, Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Supervisord.Subreaper || !cfg.Supervisord.ExitWhenAllDone {
		t.Errorf("supervisord = %+v, want subreaper and exit_when_all_done", cfg.Supervisord)
	}
	var web, plain *Process
	for _, g := range cfg.Groups {
		switch g.Name {
		case "web":
			web = g.Processes[0]
		case "plain":
			plain = g.Processes[0]
		}
	}
	if !web.Essential || web.Stdout.LinePrefix != "[web:0] " || web.Stdout.JSONLines {
		t.Errorf("web stdout: essential=%v prefix=%q json=%v", web.Essential, web.Stdout.LinePrefix, web.Stdout.JSONLines)
	}
	if web.Stderr.LinePrefix != "[web!]" || !web.Stderr.JSONLines {
		t.Errorf("web stderr: prefix=%q json=%v", web.Stderr.LinePrefix, web.Stderr.JSONLines)
	}
	if plain.Essential || plain.Stdout.LinePrefix != "" || plain.Stdout.JSONLines {
		t.Errorf("plain has container options it does not set: %+v", plain)
	}
}

func TestContainerOptionErrors(t *testing.T) {
	for _, c := range []struct{ opt, want string }{
		{"essential=maybe", "essential"},
		{"stdout_log_format=xml", "stdout_log_format must be text or json, not 'xml'"},
	} {
		path := writeConf(t, map[string]string{"supervisord.conf": "[supervisord]\n[program:w]\ncommand=/bin/cat\n" + c.opt + "\n"})
		_, err := Load(path, Overrides{})
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "line 4") {
			t.Errorf("%s: err = %v, want one naming %q at line 4", c.opt, err, c.want)
		}
	}
}
