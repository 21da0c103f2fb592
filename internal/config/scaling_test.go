package config

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestScalingOptions(t *testing.T) {
	const head = "[supervisord]\n[program:w]\ncommand=/bin/cat\nprocess_name=%(program_name)s_%(process_num)02d\n"
	tests := []struct {
		name    string
		body    string
		want    *Scaling
		spares  []string
		errLine int    // line of the failing option, 0 when the load succeeds
		errOpt  string // option named by the error
		errText string
	}{
		{name: "plain program has surge spares only", body: "numprocs=2\n",
			spares: []string{"w_02", "w_03"}},
		{name: "defaults", body: "numprocs=2\nnumprocs_max=4\nscale_queue=laravel-redis://127.0.0.1:6390/0\n",
			want: &Scaling{Min: 2, Max: 4, Step: 1, Cooldown: 10 * time.Second, Interval: 2 * time.Second, JobsPerWorker: 1,
				Queue: QueueSource{Kind: QueueLaravelRedis, Addr: "127.0.0.1:6390", Prefix: DefaultLaravelPrefix,
					Keys: []string{"default"}, Display: "laravel-redis://127.0.0.1:6390/0"}},
			spares: []string{"w_02", "w_03", "w_04", "w_05", "w_06", "w_07"}},
		{name: "everything set",
			body: "numprocs_min=1\nnumprocs_max=3\nscale_step=2\nscale_cooldown=0\nscale_interval=1\n" +
				"scale_jobs_per_worker=5\nscale_max_wait=30\nfleet_max=7\n" +
				"scale_queue=laravel-redis://:s3cret@redis.local/2?queues=high,default&prefix=app_\n",
			want: &Scaling{Min: 1, Max: 3, Step: 2, Interval: time.Second, JobsPerWorker: 5, MaxWait: 30 * time.Second, FleetMax: 7,
				Queue: QueueSource{Kind: QueueLaravelRedis, Addr: "redis.local:6379", DB: 2, Password: "s3cret",
					Prefix: "app_", Keys: []string{"high", "default"},
					Display: "laravel-redis://:xxxxx@redis.local/2?queues=high,default&prefix=app_"}},
			spares: []string{"w_01", "w_02", "w_03", "w_04", "w_05"}},
		{name: "plain list with ACL user", body: "numprocs_max=2\nscale_queue=redis-list://app:pw@127.0.0.1:7000?key=jobs\n",
			want: &Scaling{Min: 1, Max: 2, Step: 1, Cooldown: 10 * time.Second, Interval: 2 * time.Second, JobsPerWorker: 1,
				Queue: QueueSource{Kind: QueueRedisList, Addr: "127.0.0.1:7000", Username: "app", Password: "pw",
					Keys: []string{"jobs"}, Display: "redis-list://app:xxxxx@127.0.0.1:7000?key=jobs"}},
			spares: []string{"w_01", "w_02", "w_03"}},
		{name: "max below numprocs", body: "numprocs=3\nnumprocs_max=2\nscale_queue=redis-list://h?key=k\n",
			errLine: 6, errOpt: "numprocs_max", errText: "numprocs_max (2) must not be below numprocs (3)"},
		{name: "min above numprocs", body: "numprocs_min=2\nnumprocs_max=2\nscale_queue=redis-list://h?key=k\n",
			errLine: 5, errOpt: "numprocs_min", errText: "numprocs_min (2) must not exceed numprocs (1)"},
		{name: "min zero", body: "numprocs_min=0\nnumprocs_max=2\nscale_queue=redis-list://h?key=k\n",
			errLine: 5, errOpt: "numprocs_min", errText: "numprocs_min must be at least 1, not 0"},
		{name: "no queue", body: "numprocs_max=2\n", errLine: 5, errOpt: "numprocs_max", errText: "numprocs_max needs scale_queue"},
		{name: "queue without max", body: "scale_queue=redis-list://h?key=k\n",
			errLine: 5, errOpt: "scale_queue", errText: "scale_queue needs numprocs_max"},
		{name: "bad scheme", body: "numprocs_max=2\nscale_queue=amqp://h/q\n",
			errLine: 6, errOpt: "scale_queue", errText: "unknown scheme 'amqp'"},
		{name: "list without key", body: "numprocs_max=2\nscale_queue=redis-list://h\n",
			errLine: 6, errOpt: "scale_queue", errText: "needs ?key="},
		{name: "bad step", body: "numprocs_max=2\nscale_queue=redis-list://h?key=k\nscale_step=x\n",
			errLine: 7, errOpt: "scale_step", errText: "invalid literal for int() with base 10: 'x'"},
		{name: "fleet_max zero", body: "numprocs_max=2\nscale_queue=redis-list://h?key=k\nfleet_max=0\n",
			errLine: 7, errOpt: "fleet_max", errText: "fleet_max must be at least 1, not 0"},
		{name: "interval zero", body: "numprocs_max=2\nscale_queue=redis-list://h?key=k\nscale_interval=0\n",
			errLine: 7, errOpt: "scale_interval", errText: "scale_interval must be at least 1 seconds, not 0"},
		{name: "watch", body: "rolling_restart_watch=redis://:pw@h/1?key=laravel_database_laravel_cache:illuminate:queue:restart\n",
			spares: []string{"w_01"}},
		{name: "bad watch", body: "rolling_restart_watch=redis://h/1\n",
			errLine: 5, errOpt: "rolling_restart_watch", errText: "needs ?key="},
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
				if ce.File != path || ce.Line != tt.errLine || ce.Section != "program:w" || ce.Option != tt.errOpt ||
					!strings.Contains(ce.Msg, tt.errText) {
					t.Fatalf("err = %+v, want line %d option %s containing %q", ce, tt.errLine, tt.errOpt, tt.errText)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			g := cfg.Groups[0]
			if (g.Scaling == nil) != (tt.want == nil) || g.Scaling != nil && !scalingEqual(*g.Scaling, *tt.want) {
				t.Errorf("Scaling = %+v, want %+v", g.Scaling, tt.want)
			}
			var names []string
			for _, p := range g.Spares {
				names = append(names, p.Name)
				if p.Command != "/bin/cat" || p.Group != "w" {
					t.Errorf("spare %s: command %q group %q", p.Name, p.Command, p.Group)
				}
			}
			if strings.Join(names, " ") != strings.Join(tt.spares, " ") {
				t.Errorf("spares = %v, want %v", names, tt.spares)
			}
		})
	}
}

func scalingEqual(a, b Scaling) bool {
	return a.Min == b.Min && a.Max == b.Max && a.Step == b.Step && a.Cooldown == b.Cooldown &&
		a.Interval == b.Interval && a.JobsPerWorker == b.JobsPerWorker && a.MaxWait == b.MaxWait &&
		a.Queue.Kind == b.Queue.Kind && a.Queue.Addr == b.Queue.Addr && a.Queue.DB == b.Queue.DB &&
		a.Queue.Username == b.Queue.Username && a.Queue.Password == b.Queue.Password &&
		a.Queue.Prefix == b.Queue.Prefix && strings.Join(a.Queue.Keys, ",") == strings.Join(b.Queue.Keys, ",") &&
		a.Queue.Display == b.Queue.Display
}

func TestScalingInGroupSection(t *testing.T) {
	path := writeConf(t, map[string]string{"supervisord.conf": "[supervisord]\n[group:g]\nprograms=w\n" +
		"[program:w]\ncommand=/bin/cat\nnumprocs_max=2\n"})
	_, err := Load(path, Overrides{})
	var ce *Error
	if !errors.As(err, &ce) || ce.Option != "numprocs_max" || ce.Line != 6 ||
		!strings.Contains(ce.Msg, "not supported for a program listed in [group:g]") {
		t.Fatalf("err = %v", err)
	}
}

func TestWatchNeedsProcessNum(t *testing.T) {
	path := writeConf(t, map[string]string{"supervisord.conf": "[supervisord]\n[program:w]\ncommand=/bin/cat\n" +
		"rolling_restart_watch=redis://h/1?key=k\n"})
	_, err := Load(path, Overrides{})
	var ce *Error
	if !errors.As(err, &ce) || ce.Option != "rolling_restart_watch" || ce.Line != 4 || !strings.Contains(ce.Msg, "%(process_num)") {
		t.Fatalf("err = %v", err)
	}
}

func TestSparesWithoutProcessNum(t *testing.T) {
	path := writeConf(t, map[string]string{"supervisord.conf": "[supervisord]\n[program:w]\ncommand=/bin/cat\n"})
	cfg, err := Load(path, Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Groups[0].Spares) != 0 || len(cfg.Messages) != 0 {
		t.Errorf("spares %d, messages %v", len(cfg.Groups[0].Spares), cfg.Messages)
	}
}
