package config

import (
	"errors"
	"maps"
	"os"
	"strings"
	"testing"
	"time"
)

func TestFleetSection(t *testing.T) {
	path := writeConf(t, map[string]string{"supervisord.conf": "[supervisord]\n[fleet]\n" +
		"redis_url = rediss://:s3cret@cache.example:6380/2\nlabels = role=worker, az=a\nheartbeat_interval = 300ms\n" +
		"secret = 0123456789abcdef0\n"})
	cfg, err := Load(path, Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	f := cfg.Fleet
	host, _ := os.Hostname()
	if f == nil || f.RedisURL != "rediss://:s3cret@cache.example:6380/2" || f.NodeName != host ||
		f.HeartbeatInterval != 300*time.Millisecond || f.KeyPrefix != DefaultFleetKeyPrefix ||
		f.Secret != "0123456789abcdef0" || f.CommandTTL != time.Minute || f.RedisCluster ||
		!maps.Equal(f.Labels, map[string]string{"role": "worker", "az": "a"}) {
		t.Errorf("fleet = %+v", f)
	}
	path = writeConf(t, map[string]string{"supervisord.conf": "[supervisord]\n[fleet]\n" +
		"redis_url = redis://10.0.0.1:7000?addr=10.0.0.2:7000\nredis_cluster = true\n"})
	if cfg, err := Load(path, Overrides{}); err != nil || !cfg.Fleet.RedisCluster {
		t.Errorf("redis_cluster: fleet = %+v, err %v", cfg.Fleet, err)
	}
	path = writeConf(t, map[string]string{"supervisord.conf": "[supervisord]\n[fleet]\n" +
		"redis_url = redis://:masterpw@10.0.0.1:26379/3?addr=10.0.0.2:26379&addr=10.0.0.3:26379\n" +
		"redis_sentinel_master = mymaster\nredis_sentinel_password = %(ENV_SENTINEL_PW)s\n"})
	t.Setenv("SENTINEL_PW", "sentinelpw")
	if cfg, err := Load(path, Overrides{}); err != nil || cfg.Fleet.RedisSentinelMaster != "mymaster" ||
		cfg.Fleet.RedisSentinelPassword != "sentinelpw" || cfg.Fleet.RedisSentinelUsername != "" || cfg.Fleet.RedisCluster {
		t.Errorf("redis_sentinel_master: fleet = %+v, err %v", cfg.Fleet, err)
	}
	path = writeConf(t, map[string]string{"supervisord.conf": "[supervisord]\n"})
	if cfg, err := Load(path, Overrides{}); err != nil || cfg.Fleet != nil {
		t.Errorf("no [fleet]: fleet = %+v, err %v", cfg.Fleet, err)
	}
}

func TestFleetErrors(t *testing.T) {
	for _, tc := range []struct{ body, option, want string }{
		{"node_name=a\n", "", "section [fleet] has no redis_url value"},
		{"redis_url=http://x:1\n", "redis_url", "redis_url must be redis://"},
		{"redis_url=redis://u:pw@\n", "redis_url", "not 'redis://u:xxx@'"},
		{"redis_url=redis://x:1\nlabels=role\n", "labels", "labels must be key=value pairs separated by commas, not 'role'"},
		{"redis_url=redis://x:1\nheartbeat_interval=10ms\n", "heartbeat_interval", "heartbeat_interval must be at least 100ms"},
		{"redis_url=redis://x:1\nheartbeat_interval=soon\n", "heartbeat_interval", "is not a duration"},
		{"redis_url=redis://x:1\nnode_name=\n", "node_name", "node_name must not be empty"},
		{"redis_url=redis://x:1/2\nredis_cluster=true\n", "redis_url", "a Redis Cluster has only database 0, not '2'"},
		{"redis_url=redis://x:1\nredis_cluster=maybe\n", "redis_cluster", "maybe"},
		{"redis_url=redis://x:1\nsecret=short\n", "secret", "secret must be at least 16 characters"},
		{"redis_url=redis://x:1\ncommand_ttl=0.5\n", "command_ttl", "command_ttl must be at least 1s"},
		{"redis_url=redis://x:1/db2\n", "redis_url", "redis_url's database must be a number, not 'db2'"},
		{"redis_url=redis://x:1?addr=y:1\n", "redis_url", "redis_url names one server: more addresses (addr=) need redis_cluster = true or redis_sentinel_master"},
		{"redis_url=redis://x:1\nredis_sentinel_master=\n", "redis_sentinel_master", "redis_sentinel_master must not be empty"},
		{"redis_url=redis://x:1\nredis_sentinel_master=m\nredis_cluster=true\n", "redis_sentinel_master",
			"redis_sentinel_master (Redis Sentinel) and redis_cluster = true (Redis Cluster) exclude each other"},
		{"redis_url=redis://x:1\nredis_sentinel_password=pw\n", "redis_sentinel_password", "redis_sentinel_password needs redis_sentinel_master"},
		{"redis_url=redis://x:1\nredis_sentinel_username=u\n", "redis_sentinel_username", "redis_sentinel_username needs redis_sentinel_master"},
		{"redis_url=redis://x:1?addr=y:1&password=pw\nredis_sentinel_master=m\n", "redis_url",
			"with redis_sentinel_master, redis_url takes only addr=host:port parameters (more Sentinels), not 'password'"},
		{"redis_url=redis://x:1?addr=y\nredis_sentinel_master=m\n", "redis_url", "redis_url's addr must be host:port, not 'y'"},
		{"redis_url=redis://x:1/a\nredis_sentinel_master=m\n", "redis_url", "redis_url's database must be a number, not 'a'"},
	} {
		path := writeConf(t, map[string]string{"supervisord.conf": "[supervisord]\n[fleet]\n" + tc.body})
		_, err := Load(path, Overrides{})
		var e *Error
		if !errors.As(err, &e) || !strings.Contains(e.Msg, tc.want) || e.File != path || e.Line == 0 || e.Option != tc.option {
			t.Errorf("%q: error %#v, want %q at option %q", tc.body, err, tc.want, tc.option)
		}
	}
}
