package lint

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/drover/drover/internal/config"
)

// writeConf writes the files into a temporary directory and returns the
// path of supervisord.conf.
func writeConf(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		full := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "supervisord.conf")
}

func TestCheck(t *testing.T) {
	// Line 1 is [supervisord]; the program section starts on line 2.
	const head = "[supervisord]\n[program:w]\n"
	const good = "autorestart=true\nstopwaitsecs=70\n"
	tests := []struct {
		name string
		body string
		want []string // "line program rule"
	}{
		{name: "not a worker", body: "command=/bin/cat\nautorestart=false\nstopsignal=INT\n"},
		{name: "good worker", body: "command=php artisan queue:work --timeout=60\n" + good},
		{name: "default timeout and stopwaitsecs",
			body: "command=php /app/artisan queue:work redis --sleep=3\nautorestart=true\n",
			want: []string{"2 w stopwaitsecs-timeout"}},
		{name: "stopwaitsecs too short",
			body: "command=php artisan queue:work --timeout 30\nautorestart=true\nstopwaitsecs=30\n",
			want: []string{"5 w stopwaitsecs-timeout"}},
		{name: "timeout not below retry_after default",
			body: "command=php artisan queue:work --timeout=90\nautorestart=true\nstopwaitsecs=100\n",
			want: []string{"3 w timeout-retry-after"}},
		{name: "retry_after from the environment",
			body: "command=php artisan queue:work --timeout=60\nenvironment=REDIS_QUEUE_RETRY_AFTER=\"45\"\n" + good,
			want: []string{"3 w timeout-retry-after"}},
		{name: "retry_after option wins",
			body: "command=php artisan queue:work --timeout=100\nenvironment=REDIS_QUEUE_RETRY_AFTER=\"45\"\nretry_after=300\n" +
				"autorestart=true\nstopwaitsecs=110\n"},
		{name: "timeout disabled",
			body: "command=php artisan queue:work --timeout=0\n" + good,
			want: []string{"3 w timeout-disabled"}},
		{name: "stop signal INT",
			body: "command=php artisan queue:work\nstopsignal=INT\n" + good,
			want: []string{"4 w stopsignal"}},
		{name: "autorestart false",
			body: "command=php artisan queue:work\nautorestart=false\nstopwaitsecs=70\n",
			want: []string{"4 w autorestart"}},
		{name: "autorestart unexpected (default)",
			body: "command=php artisan queue:work\nstopwaitsecs=70\n",
			want: []string{"2 w autorestart"}},
		{name: "unexpected with exit 0 unexpected is fine",
			body: "command=php artisan queue:work\nstopwaitsecs=70\nexitcodes=2\n"},
		{name: "horizon without stopasgroup",
			body: "command=php artisan horizon\nautorestart=true\nstopwaitsecs=3600\n",
			want: []string{"2 w stopasgroup"}},
		{name: "horizon good",
			body: "command=php artisan horizon\nautorestart=true\nstopwaitsecs=3600\nstopasgroup=true\n"},
		{name: "everything wrong in order",
			body: "command=php artisan queue:work --timeout=120\nstopsignal=QUIT\nautorestart=false\n",
			want: []string{"2 w stopwaitsecs-timeout", "3 w timeout-retry-after", "4 w stopsignal", "5 w autorestart"}},
		{name: "shared rotated log",
			body: "command=/bin/cat\nnumprocs=2\nprocess_name=%(program_name)s_%(process_num)d\nstdout_logfile=/tmp/w.log\n",
			want: []string{"6 w shared-logfile-rotation"}},
		{name: "shared log without rotation",
			body: "command=/bin/cat\nnumprocs=2\nprocess_name=%(program_name)s_%(process_num)d\nstdout_logfile=/tmp/w.log\n" +
				"stdout_logfile_maxbytes=0\n"},
		{name: "own log per process",
			body: "command=/bin/cat\nnumprocs=2\nprocess_name=%(program_name)s_%(process_num)d\n" +
				"stdout_logfile=/tmp/w_%(process_num)d.log\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeConf(t, map[string]string{"supervisord.conf": head + tt.body})
			cfg, err := config.Load(path, config.Overrides{})
			if err != nil {
				t.Fatal(err)
			}
			pos, err := config.ReadPositions(path, cfg.Included)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range Check(cfg, pos) {
				if f.Pos.File != path || f.Problem == "" || f.Fix == "" {
					t.Errorf("finding %+v lacks file, problem or fix", f)
				}
				got = append(got, fmt.Sprintf("%d %s %s", f.Pos.Line, f.Program, f.Rule))
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("findings = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestDetect(t *testing.T) {
	tests := []struct {
		argv    string
		kind    workerKind
		timeout int
		bad     string
	}{
		{"php artisan queue:work", queueWorker, 60, ""},
		{"php artisan queue:work redis --timeout=5 --tries=3", queueWorker, 5, ""},
		{"php artisan queue:listen --timeout 7", queueWorker, 7, ""},
		{"php artisan queue:work --timeout=abc", queueWorker, 0, "abc"},
		{"php artisan horizon", horizonMaster, 0, ""},
		{"php artisan horizon:work redis", notWorker, 0, ""},
		{"horizon", notWorker, 0, ""},
		{"/usr/bin/redis-server", notWorker, 0, ""},
	}
	for _, tt := range tests {
		kind, timeout, bad := detect(strings.Fields(tt.argv))
		if kind != tt.kind || timeout != tt.timeout || bad != tt.bad {
			t.Errorf("detect(%q) = %v %d %q, want %v %d %q", tt.argv, kind, timeout, bad, tt.kind, tt.timeout, tt.bad)
		}
	}
}

func TestMainExitStatus(t *testing.T) {
	tests := []struct {
		name   string
		conf   string
		args   func(path string) []string
		status int
		stdout string
		stderr string
	}{
		{name: "clean", conf: "[supervisord]\n[program:cat]\ncommand=/bin/cat\n",
			args: func(p string) []string { return []string{"-c", p} }, status: ExitClean, stdout: "no problems found"},
		{name: "findings", conf: "[supervisord]\n[program:w]\ncommand=php artisan queue:work\nautorestart=true\n",
			args: func(p string) []string { return []string{"--configuration=" + p} }, status: ExitFindings,
			stdout: "supervisord.conf:2: w: stopwaitsecs=10 (the default) is not longer than --timeout=60"},
		{name: "config error", conf: "[supervisord]\n[program:w]\ncommand=/bin/cat\nmemory_limit=huge\n",
			args: func(p string) []string { return []string{"-c" + p} }, status: ExitConfigError,
			stderr: "line 4, option 'memory_limit'"},
		{name: "warning only", conf: "[supervisord]\n[program:w]\ncommand=/bin/cat\nnumprocs=2\n" +
			"process_name=%(program_name)s_%(process_num)d\nstdout_logfile=/tmp/w.log\n",
			args: func(p string) []string { return []string{"-c", p} }, status: ExitClean,
			stdout: "supervisord.conf:6: w: warning: 2 processes write /tmp/w.log"},
		{name: "problems and warnings", conf: "[supervisord]\n[program:w]\ncommand=php artisan queue:work\nautorestart=true\n" +
			"numprocs=2\nprocess_name=%(program_name)s_%(process_num)d\nstdout_logfile=/tmp/w.log\n",
			args: func(p string) []string { return []string{"-c", p} }, status: ExitFindings,
			stdout: "1 problem and 1 warning found"},
		{name: "bad argument", conf: "[supervisord]\n", args: func(string) []string { return []string{"-x"} },
			status: ExitConfigError, stderr: "unexpected argument -x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeConf(t, map[string]string{"supervisord.conf": tt.conf})
			var stdout, stderr bytes.Buffer
			status := Main(tt.args(path), &stdout, &stderr)
			if status != tt.status || !strings.Contains(stdout.String(), tt.stdout) || !strings.Contains(stderr.String(), tt.stderr) {
				t.Fatalf("status %d, stdout %q, stderr %q; want %d, %q, %q", status, stdout.String(), stderr.String(),
					tt.status, tt.stdout, tt.stderr)
			}
		})
	}
}
