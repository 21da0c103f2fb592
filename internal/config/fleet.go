package config

import (
	"fmt"
	"maps"
	"net"
	"net/url"
	"slices"
	"strconv"
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
	RedisCluster bool
	// RedisSentinelMaster is the name of the master that Redis Sentinel
	// monitors: with it RedisURL names the Sentinels (more as ?addr=
	// parameters) and carries the master's user, password and database.
	RedisSentinelMaster string
	// The Sentinels' own credentials (their requirepass, or an ACL user),
	// when they have any.
	RedisSentinelUsername string
	RedisSentinelPassword string
	NodeName              string            // default the host name
	Labels                map[string]string // labels=role=worker,az=a
	HeartbeatInterval     time.Duration     // default DefaultHeartbeatInterval
	KeyPrefix             string            // default DefaultFleetKeyPrefix
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
		RedisURL:              read(r, "redis_url", "", parseRedisURL),
		RedisCluster:          read(r, "redis_cluster", "false", parseBool),
		RedisSentinelMaster:   strings.TrimSpace(r.str(optSentinelMaster, "")),
		RedisSentinelUsername: strings.TrimSpace(r.str(optSentinelUsername, "")),
		RedisSentinelPassword: strings.TrimSpace(r.str(optSentinelPassword, "")),
		NodeName:              strings.TrimSpace(r.str("node_name", l.hostname)),
		Labels:                read(r, "labels", "", parseLabels),
		HeartbeatInterval:     read(r, "heartbeat_interval", "5", parseHeartbeat),
		KeyPrefix:             strings.TrimSpace(r.str("key_prefix", DefaultFleetKeyPrefix)),
		Secret:                strings.TrimSpace(r.str("secret", "")),
		CommandTTL:            read(r, "command_ttl", "60", parseCommandTTL),
	}
	if r.err == nil && f.Secret != "" && len(f.Secret) < minSecretLen {
		r.fail("secret", fmt.Errorf("secret must be at least %d characters", minSecretLen))
	}
	if r.err == nil {
		checkRedisTopology(r, f)
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

// Options of a Redis Sentinel setup.
const (
	optSentinelMaster   = "redis_sentinel_master"
	optSentinelUsername = "redis_sentinel_username"
	optSentinelPassword = "redis_sentinel_password"
)

// checkRedisTopology checks that redis_url fits the Redis it names: one
// server, a Cluster (redis_cluster) or the Sentinels of a master
// (redis_sentinel_master); the first error goes to r.
func checkRedisTopology(r *reader, f *Fleet) {
	u, _ := url.Parse(f.RedisURL) // parseRedisURL read it
	sentinel := r.has(optSentinelMaster)
	switch {
	case sentinel && f.RedisSentinelMaster == "":
		r.fail(optSentinelMaster, fmt.Errorf("%s must not be empty", optSentinelMaster))
	case sentinel && f.RedisCluster:
		r.fail(optSentinelMaster, fmt.Errorf("%s (Redis Sentinel) and redis_cluster = true (Redis Cluster) exclude each other", optSentinelMaster))
	case !sentinel && r.has(optSentinelUsername):
		r.fail(optSentinelUsername, fmt.Errorf("%s needs %s", optSentinelUsername, optSentinelMaster))
	case !sentinel && r.has(optSentinelPassword):
		r.fail(optSentinelPassword, fmt.Errorf("%s needs %s", optSentinelPassword, optSentinelMaster))
	}
	if r.err != nil {
		return
	}
	db := strings.Trim(u.Path, "/")
	if _, err := strconv.ParseUint(db, 10, 16); db != "" && err != nil {
		r.fail("redis_url", fmt.Errorf("redis_url's database must be a number, not %s", pyrepr.Str(db)))
	} else if f.RedisCluster && db != "" && db != "0" {
		r.fail("redis_url", fmt.Errorf("a Redis Cluster has only database 0, not %s", pyrepr.Str(db)))
	}
	if f.RedisCluster || r.err != nil {
		return // go-redis's ParseClusterURL reads the parameters
	}
	q := u.Query()
	for _, name := range slices.Sorted(maps.Keys(q)) {
		switch {
		case name != "addr" && sentinel:
			r.fail("redis_url", fmt.Errorf("with %s, redis_url takes only addr=host:port parameters (more Sentinels), not %s", optSentinelMaster, pyrepr.Str(name)))
		case name == "addr" && !sentinel:
			r.fail("redis_url", fmt.Errorf("redis_url names one server: more addresses (addr=) need redis_cluster = true or %s", optSentinelMaster))
		}
		for _, v := range q[name] {
			if host, port, err := net.SplitHostPort(v); name == "addr" && (err != nil || host == "" || port == "") {
				r.fail("redis_url", fmt.Errorf("redis_url's addr must be host:port, not %s", pyrepr.Str(v)))
			}
		}
	}
}

// parseRedisURL checks the form go-redis's ParseURL (ParseClusterURL with
// redis_cluster, ParseFailoverURL with redis_sentinel_master) accepts; the
// password stays in the URL.
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
