package daemon

import (
	"context"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/logs"
)

// redisLog passes go-redis's own messages (a Sentinel's choice of master,
// a dropped connection) to the main log at DEBG. By default go-redis
// writes them to the daemon's stderr, past the main log and its level,
// and may repeat them while Redis is away; the fleet and the pools
// already log a loss of Redis once, at WARN, and its recovery once.
type redisLog struct{ ml *logs.MainLog }

func (l redisLog) Printf(_ context.Context, format string, args ...any) {
	l.ml.Logf(config.LevelDebug, "go-redis: "+strings.TrimSuffix(format, "\n"), args...)
}

// logRedisTo makes the main log of the running instance go-redis's logger.
func logRedisTo(ml *logs.MainLog) { redis.SetLogger(redisLog{ml}) }
