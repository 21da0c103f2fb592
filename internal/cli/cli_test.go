package cli

import (
	"bytes"
	"strings"
	"testing"
)

func TestMainDispatch(t *testing.T) {
	tests := []struct {
		args       []string
		wantCode   int
		wantStdout string // prefix
		wantStderr string // prefix
	}{
		{[]string{"drover"}, 0, "drover -- a Supervisor-compatible", ""},
		{[]string{"drover", "help"}, 0, "drover -- a Supervisor-compatible", ""},
		{[]string{"drover", "-v"}, 0, "drover ", ""},
		{[]string{"drover", "version"}, 0, "drover ", ""},
		{[]string{"drover", "bogus"}, 2, "", `drover: unknown command "bogus"`},
		{[]string{"/usr/bin/supervisord", "-v"}, 0, "4.2.5\n", ""},
		{[]string{"drover", "daemon", "-v"}, 0, "4.2.5\n", ""},
		{[]string{"drover", "daemon", "--bogus"}, 2, "", "Error: option --bogus not recognized\nFor help, use drover daemon -h\n"},
		{[]string{"/x/supervisord", "-h"}, 0, "supervisord -- run a set of applications as daemons.\n\nUsage: /x/supervisord [options]", ""},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		code := Main(tt.args, strings.NewReader(""), &stdout, &stderr)
		if code != tt.wantCode || !strings.HasPrefix(stdout.String(), tt.wantStdout) || !strings.HasPrefix(stderr.String(), tt.wantStderr) {
			t.Errorf("Main(%q) = %d, stdout %q, stderr %q; want %d, %q…, %q…",
				tt.args, code, stdout.String(), stderr.String(), tt.wantCode, tt.wantStdout, tt.wantStderr)
		}
	}
}
