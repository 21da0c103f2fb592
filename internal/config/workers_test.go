package config

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestWorkerOptions(t *testing.T) {
	const head = "[supervisord]\n[program:redis]\ncommand=/bin/cat\n[program:w]\ncommand=/bin/cat\n"
	defaults := func(w Worker) *Worker {
		if w.MemoryCheckInterval == 0 {
			w.MemoryCheckInterval = DefaultMemoryCheckInterval
		}
		if w.ReadyTimeout == 0 {
			w.ReadyTimeout = DefaultReadyTimeout
		}
		if w.ReadyInterval == 0 {
			w.ReadyInterval = DefaultReadyInterval
		}
		return &w
	}
	tests := []struct {
		name    string
		body    string
		want    *Worker
		errLine int // line of the failing option
		errSect string
		errOpt  string
		errText string
	}{
		{name: "none set", body: "", want: nil},
		{name: "memory limit MB", body: "memory_limit=256MB\n", want: defaults(Worker{MemoryLimit: 256 << 20})},
		{name: "memory limit bytes and interval", body: "memory_limit=1000\nmemory_check_interval=500ms\n",
			want: defaults(Worker{MemoryLimit: 1000, MemoryCheckInterval: 500 * time.Millisecond})},
		{name: "interval in seconds", body: "memory_limit=1GB\nmemory_check_interval=2\n",
			want: defaults(Worker{MemoryLimit: 1 << 30, MemoryCheckInterval: 2 * time.Second})},
		{name: "depends_on dedup", body: "depends_on=redis, redis\n", want: defaults(Worker{DependsOn: []string{"redis"}})},
		{name: "wait_for list and command",
			body: "wait_for=tcp://127.0.0.1:6379, redis://:pw@localhost/2\n  command:/bin/test -e /tmp/x\nready_timeout=30\nready_interval=0.25\n",
			want: defaults(Worker{WaitFor: []Check{
				{Kind: CheckTCP, Addr: "127.0.0.1:6379", Display: "tcp://127.0.0.1:6379"},
				{Kind: CheckRedis, Addr: "localhost:6379", Password: "pw", DB: 2, Display: "redis://xxxxx@localhost/2"},
				{Kind: CheckCommand, Argv: []string{"/bin/test", "-e", "/tmp/x"}, Display: "command:/bin/test -e /tmp/x"},
			}, ReadyTimeout: 30 * time.Second, ReadyInterval: 250 * time.Millisecond})},
		{name: "ready check http", body: "ready_check=http://127.0.0.1:8080/health\nretry_after=120\n",
			want: defaults(Worker{ReadyCheck: &Check{Kind: CheckHTTP, URL: "http://127.0.0.1:8080/health",
				Display: "http://127.0.0.1:8080/health"}, RetryAfter: 120})},
		{name: "bad memory limit", body: "memory_limit=lots\n", errLine: 6, errSect: "program:w", errOpt: "memory_limit",
			errText: "invalid literal for int() with base 10: 'lots'"},
		{name: "zero memory limit", body: "memory_limit=0\n", errLine: 6, errSect: "program:w", errOpt: "memory_limit",
			errText: "memory_limit must be positive"},
		{name: "bad interval", body: "memory_limit=1MB\nmemory_check_interval=soon\n", errLine: 7, errSect: "program:w",
			errOpt: "memory_check_interval", errText: "'soon' is not a duration"},
		{name: "tiny interval", body: "memory_check_interval=1ms\n", errLine: 6, errSect: "program:w",
			errOpt: "memory_check_interval", errText: "must be at least 100ms"},
		{name: "unknown scheme", body: "wait_for=amqp://h:1\n", errLine: 6, errSect: "program:w", errOpt: "wait_for",
			errText: "unknown scheme 'amqp'"},
		{name: "tcp without port", body: "ready_check=tcp://h\n", errLine: 6, errSect: "program:w", errOpt: "ready_check",
			errText: "needs a port"},
		{name: "not a URL", body: "wait_for=redis\n", errLine: 6, errSect: "program:w", errOpt: "wait_for",
			errText: "bad check 'redis'"},
		{name: "empty command", body: "wait_for=command:\n", errLine: 6, errSect: "program:w", errOpt: "wait_for",
			errText: "empty command"},
		{name: "unknown dependency", body: "depends_on=redis,mysql\n", errLine: 6, errSect: "program:w", errOpt: "depends_on",
			errText: "depends_on names unknown program 'mysql'"},
		{name: "self dependency", body: "depends_on=w\n", errLine: 6, errSect: "program:w", errOpt: "depends_on",
			errText: "depends_on cycle: w -> w"},
		{name: "bad retry_after", body: "retry_after=0\n", errLine: 6, errSect: "program:w", errOpt: "retry_after",
			errText: "retry_after must be at least 1"},
		{name: "stop_on_daemon_death off", body: "stop_on_daemon_death=false\n", want: defaults(Worker{KeepOnDaemonDeath: true})},
		{name: "stop_on_daemon_death on", body: "stop_on_daemon_death=true\n", want: defaults(Worker{})},
		{name: "bad stop_on_daemon_death", body: "stop_on_daemon_death=maybe\n", errLine: 6, errSect: "program:w",
			errOpt: "stop_on_daemon_death", errText: "not a valid boolean value: 'maybe'"},
		{name: "ready_required", body: "ready_required=false\n", want: defaults(Worker{ReadyRequired: new(false)})},
		{name: "bad ready_required", body: "ready_required=later\n", errLine: 6, errSect: "program:w",
			errOpt: "ready_required", errText: "not a valid boolean value: 'later'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeConf(t, map[string]string{"supervisord.conf": head + tt.body})
			cfg, err := Load(path, Overrides{})
			if tt.errText != "" {
				var ce *Error
				if !errors.As(err, &ce) {
					t.Fatalf("err = %v, want a config error", err)
				}
				if ce.File != path || ce.Line != tt.errLine || ce.Section != tt.errSect || ce.Option != tt.errOpt ||
					!strings.Contains(ce.Msg, tt.errText) {
					t.Fatalf("err = %+v, want line %d option %s containing %q", ce, tt.errLine, tt.errOpt, tt.errText)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got *Worker
			for _, g := range cfg.Groups {
				if g.Name == "w" {
					got = g.Processes[0].Worker
				}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("worker = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestReadyRequired(t *testing.T) {
	for _, tt := range []struct {
		autostart bool
		worker    *Worker
		want      bool
	}{
		{true, nil, true},
		{false, nil, false},
		{true, &Worker{ReadyRequired: new(false)}, false},
		{false, &Worker{ReadyRequired: new(true)}, true},
		{false, &Worker{}, false},
	} {
		p := &Process{Autostart: tt.autostart, Worker: tt.worker}
		if got := p.ReadyRequired(); got != tt.want {
			t.Errorf("autostart=%v worker=%+v: %v, want %v", tt.autostart, tt.worker, got, tt.want)
		}
	}
}

func TestDependencyCycle(t *testing.T) {
	tests := []struct {
		name  string
		order []string
		deps  map[string][]string
		want  []string
	}{
		{name: "none", order: []string{"a", "b"}, deps: nil},
		{name: "chain", order: []string{"a", "b", "c"}, deps: map[string][]string{"a": {"b"}, "b": {"c"}}},
		{name: "diamond", order: []string{"a", "b", "c", "d"},
			deps: map[string][]string{"a": {"b", "c"}, "b": {"d"}, "c": {"d"}}},
		{name: "two", order: []string{"a", "b"}, deps: map[string][]string{"a": {"b"}, "b": {"a"}},
			want: []string{"a", "b", "a"}},
		{name: "cycle behind a tail", order: []string{"x", "a", "b", "c"},
			deps: map[string][]string{"x": {"a"}, "a": {"b"}, "b": {"c"}, "c": {"a"}},
			want: []string{"a", "b", "c", "a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := dependencyCycle(tt.order, tt.deps); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("cycle = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestDependencyCycleAtLoad(t *testing.T) {
	conf := "[supervisord]\n[program:a]\ncommand=/bin/cat\ndepends_on=b\n" +
		"[program:b]\ncommand=/bin/cat\ndepends_on=c\n[program:c]\ncommand=/bin/cat\ndepends_on=a\n"
	path := writeConf(t, map[string]string{"supervisord.conf": conf})
	_, err := Load(path, Overrides{})
	var ce *Error
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v, want a config error", err)
	}
	want := "depends_on cycle: a -> b -> c -> a in section 'program:a' (file: '" + path + "', line 4, option 'depends_on')"
	if ce.Error() != want {
		t.Fatalf("err = %q\nwant  %q", ce.Error(), want)
	}
}

func TestWorkerOnEveryProcess(t *testing.T) {
	conf := "[supervisord]\n[program:w]\ncommand=/bin/cat\nnumprocs=2\nprocess_name=%(program_name)s_%(process_num)d\n" +
		"memory_limit=10MB\n"
	path := writeConf(t, map[string]string{"supervisord.conf": conf})
	cfg, err := Load(path, Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	g := cfg.Groups[0]
	for _, p := range append(g.Processes, g.Spares...) {
		if p.Worker == nil || p.Worker.MemoryLimit != 10<<20 {
			t.Fatalf("%s: worker = %+v, want a 10MB limit", p.Name, p.Worker)
		}
	}
}

func TestPositions(t *testing.T) {
	files := map[string]string{
		"supervisord.conf": "[supervisord]\n[include]\nfiles=conf.d/*.conf\n[DEFAULT]\nstopwaitsecs=5\n",
		"conf.d/w.conf":    "[program:w]\ncommand=/bin/cat\n\nstopsignal=INT\n",
	}
	path := writeConf(t, files)
	cfg, err := Load(path, Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	pos, err := ReadPositions(path, cfg.Included)
	if err != nil {
		t.Fatal(err)
	}
	inc := cfg.Included[0]
	tests := []struct {
		option string
		want   Pos
		ok     bool
	}{
		{"stopsignal", Pos{inc, 4}, true},
		{"stopwaitsecs", Pos{path, 5}, true},
		{"autorestart", Pos{}, false},
	}
	for _, tt := range tests {
		if got, ok := pos.Option("program:w", tt.option); got != tt.want || ok != tt.ok {
			t.Errorf("Option(%s) = %v %v, want %v %v", tt.option, got, ok, tt.want, tt.ok)
		}
	}
	if got := pos.Section("program:w"); got != (Pos{inc, 1}) {
		t.Errorf("Section = %v", got)
	}
}
