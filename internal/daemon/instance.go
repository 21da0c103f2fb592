package daemon

import (
	"context"
	"fmt"
	"github.com/drover/drover/internal/guard"
	"github.com/drover/drover/internal/pyrepr"
	"net/http"
	"os"
	"strconv"
	"syscall"
	"time"

	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/events"
	"github.com/drover/drover/internal/gate"
	"github.com/drover/drover/internal/handover"
	"github.com/drover/drover/internal/health"
	"github.com/drover/drover/internal/httpmux"
	"github.com/drover/drover/internal/logs"
	"github.com/drover/drover/internal/memlimit"
	"github.com/drover/drover/internal/metrics"
	"github.com/drover/drover/internal/pool"
	"github.com/drover/drover/internal/proctree"
	"github.com/drover/drover/internal/rpc"
	"github.com/drover/drover/internal/supervisor"
	"github.com/drover/drover/internal/web"
)

// rootCritical is logged when root runs supervisord without user=.
const rootCritical = "Supervisor is running as root.  Privileges were not dropped because no user is specified in the config file.  If you intend to run as root, you can set user=root in the config file to avoid this message."

// processSampleAge is how long one reading of the process tree serves the
// memory limits, the metrics scrapes and the dashboard: the dashboard
// refreshes its figures every 2 s, so a scrape while one is open costs no
// reading of its own.
const processSampleAge = 2 * time.Second

// startupNotes are the main-log lines gathered before the log is open, by
// level, written in Supervisor's order: criticals, warnings, infos.
type startupNotes struct {
	crits, warns, infos []string
}

func (n *startupNotes) addConfigMessages(ms []config.Message) {
	for _, m := range ms {
		switch m.Level {
		case "CRIT":
			n.crits = append(n.crits, m.Text)
		case "WARN":
			n.warns = append(n.warns, m.Text)
		default:
			n.infos = append(n.infos, m.Text)
		}
	}
}

func (n *startupNotes) flush(ml *logs.MainLog) {
	for _, m := range n.crits {
		ml.Logf(config.LevelCritical, "%s", m)
	}
	for _, m := range n.warns {
		ml.Logf(config.LevelWarn, "%s", m)
	}
	for _, m := range n.infos {
		ml.Logf(config.LevelInfo, "%s", m)
	}
}

// runInstance is one life of supervisord between (re)loads, Supervisor's
// startup sequence (§8.2) then the supervision loop. When a reload was asked
// for it returns the configuration validated for it (next); otherwise code
// is the exit status.
func (d *daemon) runInstance(cfg *config.Config, first bool, sigs <-chan os.Signal) (next *config.Config, code int) {
	sd := &cfg.Supervisord
	var notes startupNotes
	notes.addConfigMessages(cfg.Messages)
	if sd.User != "" {
		if err := dropPrivileges(sd.UID, sd.GID); err != nil {
			return nil, usageError(d.stderr, d.argv0, err)
		}
		notes.infos = append(notes.infos, fmt.Sprintf("Set uid to user %d succeeded", sd.UID))
	} else if os.Getuid() == 0 {
		notes.crits = append(notes.crits, rootCritical)
	}
	if first {
		infos, err := raiseRlimits(rlimitNeeds(sd.Minfds, sd.Minprocs))
		if err != nil {
			return nil, usageError(d.stderr, d.argv0, err)
		}
		notes.infos = append(notes.infos, infos...)
	}

	mc := logs.MainConfig{Path: sd.Logfile, MaxBytes: sd.LogfileMaxBytes, Backups: sd.LogfileBackups,
		Level: sd.LogLevel, Syslog: sd.Logfile == "syslog"}
	if sd.Nodaemon && !sd.Silent {
		mc.Stdout = d.stdout
	}
	ml, err := logs.OpenMain(mc)
	if err != nil {
		return nil, usageError(d.stderr, d.argv0, fmt.Errorf("could not open the log file: %w", err))
	}
	defer ml.Close()
	notes.flush(ml)
	logRedisTo(ml)
	guard.SetReporter(func(p *guard.Panic) {
		ml.Logf(config.LevelCritical, "%v (recovered; the daemon goes on)\n%s", p, p.Stack)
	})
	takeover := d.takeover
	d.takeover = nil
	var adopt map[string]supervisor.Adopted
	var adoptSockets map[string]int
	if takeover != nil {
		d.logTakeOver(takeover, ml)
		adopt = handover.Adoptions(takeover) // before any orphan reaping
		adoptSockets = handover.FCGISockets(takeover)
	}
	defer startReaper(sd, ml)()

	// The AUTO logs of adopted processes are still written.
	if !sd.Nocleanup && takeover == nil {
		if err := logs.CleanupAuto(sd.ChildLogDir, sd.Identifier); err != nil {
			ml.Logf(config.LevelWarn, "Could not clear childlog dir")
		}
	}

	listeners, err := openListenersInheriting(cfg, d.stderr, takeOverSockets(takeover))
	if err != nil {
		return nil, usageError(d.stderr, d.argv0, err)
	}
	defer closeListeners(listeners)

	bus := &events.Bus{Warn: func(msg string) { ml.Logf(config.LevelWarn, "%s", msg) }}
	leases, limit, followLeases, stopLeases, err := fleetLeases(cfg, ml)
	if err != nil {
		return nil, usageError(d.stderr, d.argv0, err)
	}
	defer stopLeases()
	pools := pool.New(pool.Options{Limiter: limit})
	// One reading of the daemon's process tree serves the memory limits,
	// the scrapes and the dashboard for a while.
	procs := proctree.NewSampler("", os.Getpid(), processSampleAge)
	defer procs.Close()
	sup := supervisor.New(cfg, supervisor.Options{
		Log:       ml,
		Events:    bus,
		Load:      d.load(cfg.File),
		ServerURL: serverURL(cfg),
		BaseEnv:   d.baseEnv,
		Hooks:     features(pools, procs),
		Adopt:     adopt,
		// The FastCGI sockets an upgrade handed over.
		AdoptSockets: adoptSockets,
		AdoptEvents:  handover.Events(takeover),
	})
	pools.Bind(sup)
	if takeover != nil {
		pools.TakeOver(takeover.Pools)
		leases.TakeOver(pool.Leased(takeover.Pools))
	}
	followLeases(sup)
	// A fleet command's result is this image's to report: its roll
	// cannot be handed over.
	fleetRoll := func(ctx context.Context, group string, batch int) error {
		return pools.RollingRestart(pool.PinToImage(ctx, "a fleet command (fleet restart --rolling)"), group, batch)
	}
	fleetRead, leave, err := joinFleet(cfg.Fleet, sup, fleetRoll, leases, bus, ml)
	if err != nil {
		return nil, usageError(d.stderr, d.argv0, err)
	}
	reloading := false
	defer func() { leave(!reloading) }()
	up := &upgrader{Upgrade: handover.Upgrade{Exe: d.exe, Args: d.args, ConfigFile: cfg.File, Supervisor: sup, Pools: pools, Images: d.images},
		cfg: cfg, ml: ml, listeners: listeners}
	if leases != nil {
		up.HoldLeases = leases.HoldForHandover
	}
	routes := httpmux.New()
	rpc.Register(routes, rpc.Options{Supervisor: sup, Pools: pools, MainLog: ml, Events: bus, Log: ml,
		Identification: sd.Identifier, PID: os.Getpid(), Fleet: fleetRead, FleetShare: leases.Share, Upgrade: up, Images: d.images,
		Dashboard: web.Options{Snapshot: sup.Snapshot, LogFile: sup.LogFile, Events: bus, Procs: procs, Log: ml, Fleet: fleetNodes(fleetRead)}})
	metrics.Register(routes, metrics.Options{Snapshot: sup.SnapshotInto, EventsDropped: bus.Dropped, Procs: procs, Log: ml})
	health.Register(routes, sup.Snapshot)
	up.handlers = serverHandlers(cfg, listeners, routes, ml)

	if first && d.child != nil {
		ml.Logf(config.LevelInfo, "daemonizing the supervisord process")
		infos, crits := d.child.detach(sd.Directory, sd.Umask)
		for _, m := range crits {
			ml.Logf(config.LevelCritical, "%s", m)
		}
		for _, m := range infos {
			ml.Logf(config.LevelInfo, "%s", m)
		}
	}
	pidfileWritten := writePidfile(sd.Pidfile, ml)
	if pidfileWritten {
		defer os.Remove(sd.Pidfile)
	}

	up.serve()
	defer up.shutdownServers()
	if d.child != nil {
		d.child.reportReady()
		d.child = nil
	}
	d.notify.notify(notifyReady)

	restart, err := d.supervise(sup, ml, sigs, up)
	reloading = restart
	if restart {
		d.notify.notify(notifyReloading)
	} else {
		d.notify.notify(notifyStopping)
	}
	if err != nil {
		ml.Logf(config.LevelCritical, "%v", err)
		return nil, 1
	}
	if restart {
		return sup.NextConfig(), 0
	}
	return nil, sup.ExitCode()
}

// features are the hooks of what runs around the core: worker pools,
// start gates and memory limits.
func features(pools *pool.Pools, procs *proctree.Sampler) supervisor.Hooks {
	return pools.Hooks(supervisor.Hooks{
		StartGate: gate.New,
		Loops:     []func(context.Context, *supervisor.Supervisor){memlimit.Watch(procs)},
	})
}

// serverHandlers serves routes on each listener with its section's
// authentication, logging what Supervisor logs as it makes each server.
func serverHandlers(cfg *config.Config, ls []*listener, routes *httpmux.Mux, ml *logs.MainLog) []http.Handler {
	hs := make([]http.Handler, len(ls))
	for i, l := range ls {
		for _, name := range cfg.RPCInterfaces {
			ml.Logf(config.LevelInfo, "RPC interface %s initialized", pyrepr.Str(name))
		}
		var auth *httpmux.Auth
		if l.Username != "" {
			auth = &httpmux.Auth{Username: l.Username, Password: l.Password}
		} else {
			ml.Logf(config.LevelCritical, "Server %s running without any HTTP authentication checking", pyrepr.Str(l.Section))
		}
		hs[i] = routes.Handler(auth)
	}
	return hs
}

// supervise runs sup until it stops, turning signals into its requests.
func (d *daemon) supervise(sup *supervisor.Supervisor, ml *logs.MainLog, sigs <-chan os.Signal, up *upgrader) (restart bool, err error) {
	type result struct {
		restart bool
		err     error
	}
	done := make(chan result, 1)
	go func() {
		var r result
		if p := guard.Run("supervisor", func() { r.restart, r.err = sup.Run(context.Background()) }); p != nil {
			r.err = p
		}
		done <- r
	}()
	for {
		select {
		case sig := <-sigs:
			d.handleSignal(sig.(syscall.Signal), sup, ml, up)
		case r := <-done:
			return r.restart, r.err
		}
	}
}

// writePidfile writes "<pid>\n" and logs the start; a failure is logged and
// not fatal (Supervisor's behaviour). It reports whether the file was written.
func writePidfile(path string, ml *logs.MainLog) bool {
	pid := os.Getpid()
	if err := os.WriteFile(path, []byte(strconv.Itoa(pid)+"\n"), 0o666); err != nil {
		ml.Logf(config.LevelCritical, "could not write pidfile %s", path)
		return false
	}
	ml.Logf(config.LevelInfo, "supervisord started with pid %d", pid)
	return true
}

// serverURL is the default SUPERVISOR_SERVER_URL for the programs: the
// first unix server, else an inet server (Supervisor keeps the last one).
func serverURL(cfg *config.Config) string {
	if len(cfg.UnixHTTPServers) > 0 {
		return "unix://" + cfg.UnixHTTPServers[0].File
	}
	url := ""
	for _, s := range cfg.InetHTTPServers {
		host := s.Host
		if host == "" {
			host = "localhost"
		}
		url = "http://" + host + ":" + strconv.Itoa(s.Port)
	}
	return url
}
