package lint

import (
	"bytes"
	"strings"
	"testing"
)

func TestGrace(t *testing.T) {
	path := writeConf(t, map[string]string{"supervisord.conf": `[supervisord]
[program:web]
command=/bin/cat
priority=10
stopwaitsecs=5
[program:worker]
command=/bin/cat
priority=20
stopwaitsecs=40
[program:cron]
command=/bin/cat
`})
	var out, errOut bytes.Buffer
	if code := Main([]string{"-c", path, "--grace", "30s"}, &out, &errOut); code != ExitFindings {
		t.Fatalf("exit %d, want %d; stdout:\n%s\nstderr:\n%s", code, ExitFindings, &out, &errOut)
	}
	for _, want := range []string{
		"supervisord.conf:1: supervisord: a shutdown stops the groups one after another and may take 55s (cron 10s + worker 40s + web 5s), more than the grace period of 30s",
		"supervisord.conf:9: worker: stopwaitsecs=40 does not fit the grace period of 30s",
		"2 problems found",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, &out)
		}
	}
	if strings.Contains(out.String(), "web: stopwaitsecs") || strings.Contains(out.String(), "cron: stopwaitsecs") {
		t.Errorf("a program that fits was reported:\n%s", &out)
	}
	out.Reset()
	if code := Main([]string{"-c", path, "--grace=60"}, &out, &errOut); code != ExitClean {
		t.Errorf("--grace=60: exit %d, want 0:\n%s", code, &out)
	}
	if code := Main([]string{"-c", path, "--grace", "soon"}, &out, &errOut); code != ExitConfigError {
		t.Errorf("--grace soon: exit %d, want %d", code, ExitConfigError)
	}
	out.Reset()
	if code := Main([]string{"-c", path}, &out, &errOut); code != ExitClean {
		t.Errorf("without --grace: exit %d, want 0:\n%s", code, &out)
	}
}
