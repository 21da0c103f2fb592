package config

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/drover/drover/internal/pyrepr"
)

// Fleet is the optional [fleet] section: this node's membership in a fleet
// of Drover daemons coordinated through Redis (docs/fleet.md). Supervisor
// 4.2.5 ignores sections it does not know, so a config with [fleet] still
// runs under Supervisor, without a fleet.
type Fleet struct {
	RedisURL string // redis:// or rediss:// URL, password allowed
	// RedisCluster reads RedisURL as a Redis Cluster's: a seed node, more
	// seeds as ?addr=host:port parameters, no database number.
	RedisCluster      bool
	NodeName          string            // default the host name
	Labels            map[string]string // labels=role=worker,az=a
	HeartbeatInterval time.Duration     // default DefaultHeartbeatInterval
	KeyPrefix         string            // default DefaultFleetKeyPrefix
	// Secret signs fleet commands (HMAC-SHA256); empty: this node neither
	// sends nor runs them.
	Secret     string
	CommandTTL time.Duration // a command not received within it is refused
}

// Defaults of [fleet].
const (
	DefaultHeartbeatInterval = 5 * time.Second
	DefaultFleetKeyPrefix    = "drover:fleet:"
	minSecretLen             = 16
	minHeartbeatInterval     = 100 * time.Millisecond
)

// fleet reads [fleet] when present.
func (l *loader) fleet() error {
	const section = "fleet"
	if !l.ini.has(section) {
		return nil
	}
	r := l.reader(section, vars{"here": l.here, "host_node_name": l.hostname})
	if !r.has("redis_url") {
		return l.sectionErr(section, "section [fleet] has no redis_url value")
	}
	f := &Fleet{
		RedisURL:          read(r, "redis_url", "", parseRedisURL),
		RedisCluster:      read(r, "redis_cluster", "false", parseBool),
		NodeName:          strings.TrimSpace(r.str("node_name", l.hostname)),
		Labels:            read(r, "labels", "", parseLabels),
		HeartbeatInterval: read(r, "heartbeat_interval", "5", parseHeartbeat),
		KeyPrefix:         strings.TrimSpace(r.str("key_prefix", DefaultFleetKeyPrefix)),
		Secret:            strings.TrimSpace(r.str("secret", "")),
		CommandTTL:        read(r, "command_ttl", "60", parseCommandTTL),
	}
	if r.err == nil && f.Secret != "" && len(f.Secret) < minSecretLen {
		r.fail("secret", fmt.Errorf("secret must be at least %d characters", minSecretLen))
	}
	if r.err == nil && f.RedisCluster {
		if u, _ := url.Parse(f.RedisURL); strings.Trim(u.Path, "/") != "" && strings.Trim(u.Path, "/") != "0" {
			r.fail("redis_url", fmt.Errorf("a Redis Cluster has only database 0, not %s", pyrepr.Str(strings.Trim(u.Path, "/"))))
		}
	}
	if r.err == nil && f.NodeName == "" {
		r.fail("node_name", fmt.Errorf("node_name must not be empty"))
	}
	if r.err == nil && f.KeyPrefix == "" {
		r.fail("key_prefix", fmt.Errorf("key_prefix must not be empty"))
	}
	if r.err != nil {
		return r.err
	}
	l.cfg.Fleet = f
	return nil
}

// parseRedisURL checks the form go-redis's ParseURL (ParseClusterURL with
// redis_cluster) accepts; the password stays in the URL.
func parseRedisURL(s string) (string, error) {
	s = strings.TrimSpace(s)
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") || u.Host == "" {
		return "", fmt.Errorf("redis_url must be redis://[user:password@]host:port[/db] or rediss://..., not %s", pyrepr.Str(redactURL(s)))
	}
	return s, nil
}

// redactURL hides the password of a URL quoted in an error.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxx")
	}
	return u.String()
}

// parseLabels reads "k=v,k2=v2".
func parseLabels(s string) (map[string]string, error) {
	labels := map[string]string{}
	for _, kv := range splitList(s) {
		k, v, ok := strings.Cut(kv, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" {
			return nil, fmt.Errorf("labels must be key=value pairs separated by commas, not %s", pyrepr.Str(kv))
		}
		labels[k] = v
	}
	return labels, nil
}

func parseHeartbeat(s string) (time.Duration, error) {
	d, err := parseSeconds(s)
	if err == nil && d < minHeartbeatInterval {
		err = fmt.Errorf("heartbeat_interval must be at least %s, not %s", minHeartbeatInterval, pyrepr.Str(strings.TrimSpace(s)))
	}
	return d, err
}

func parseCommandTTL(s string) (time.Duration, error) {
	d, err := parseSeconds(s)
	if err == nil && d < time.Second {
		err = fmt.Errorf("command_ttl must be at least 1s, not %s", pyrepr.Str(strings.TrimSpace(s)))
	}
	return d, err
}
