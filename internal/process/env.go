package process

import (
	"os"
	"strings"
	"syscall"

	"github.com/drover/drover/internal/config"
)

// newCommand builds the spawn request for cfg: the child environment is
// supervisord's, then SUPERVISOR_* variables, then cfg.Environment
// ([supervisord] environment followed by the program's); later wins.
func newCommand(cfg *config.Process, opts *Options) *Command {
	base := opts.BaseEnv
	if base == nil {
		base = os.Environ()
	}
	env := newEnv(base)
	env.set("SUPERVISOR_ENABLED", "1")
	if url := serverURL(cfg, opts); url != "" {
		env.set("SUPERVISOR_SERVER_URL", url)
	}
	env.set("SUPERVISOR_PROCESS_NAME", cfg.Name)
	env.set("SUPERVISOR_GROUP_NAME", cfg.Group)
	for _, kv := range cfg.Environment {
		env.set(kv.Key, kv.Value)
	}
	return &Command{
		Name: cfg.Name, Group: cfg.Group,
		Argv: cfg.Argv, ArgvErr: cfg.ArgvErr,
		Env: env.list(),
		Dir: cfg.Directory, Umask: cfg.Umask,
		UID: cfg.UID, GID: cfg.GID, Groups: cfg.Groups,
		RedirectStderr: cfg.RedirectStderr,
		Stdout:         opts.Stdout, Stderr: opts.Stderr,
		DeathSignal: deathSignal(cfg),
	}
}

// deathSignal is the program's stopsignal unless stop_on_daemon_death=false.
func deathSignal(cfg *config.Process) syscall.Signal {
	if cfg.Worker != nil && cfg.Worker.KeepOnDaemonDeath {
		return 0
	}
	return cfg.StopSignal
}

// serverURL is the program's serverurl unless AUTO, else the daemon's.
func serverURL(cfg *config.Process, opts *Options) string {
	if cfg.ServerURL != "" && cfg.ServerURL != "AUTO" {
		return cfg.ServerURL
	}
	return opts.ServerURL
}

// env is an ordered KEY=VALUE set: a key keeps its first position and its last value.
type env struct {
	keys []string
	vals map[string]string
}

func newEnv(kvs []string) *env {
	e := &env{vals: make(map[string]string, len(kvs)+8)}
	for _, kv := range kvs {
		k, v, _ := strings.Cut(kv, "=")
		e.set(k, v)
	}
	return e
}

func (e *env) set(k, v string) {
	if _, ok := e.vals[k]; !ok {
		e.keys = append(e.keys, k)
	}
	e.vals[k] = v
}

func (e *env) list() []string {
	out := make([]string, len(e.keys))
	for i, k := range e.keys {
		out[i] = k + "=" + e.vals[k]
	}
	return out
}

// lookupEnv returns the value of key in a KEY=VALUE list (the last one wins).
func lookupEnv(kvs []string, key string) (string, bool) {
	for i := len(kvs) - 1; i >= 0; i-- {
		if k, v, ok := strings.Cut(kvs[i], "="); ok && k == key {
			return v, true
		}
	}
	return "", false
}
