package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/guard"
	"github.com/drover/drover/internal/process"
	"github.com/drover/drover/internal/proctree"
	"github.com/drover/drover/internal/supervisor"
)

var (
	groupName = []string{"group", "name"}
	// node_exporter's supervisord collector labels name first.
	nameGroup = []string{"name", "group"}
)

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(name, help, labels, nil)
}

// The metrics, as docs/observability.md lists them.
var (
	nodeUp         = desc("node_supervisord_up", "1 if the process is STARTING, RUNNING or STOPPING (node_exporter's supervisord collector).", nameGroup...)
	nodeState      = desc("node_supervisord_state", "Supervisor's state code of the process (node_exporter's supervisord collector).", nameGroup...)
	nodeExitStatus = desc("node_supervisord_exit_status", "Exit status of the process's last exit (node_exporter's supervisord collector).", nameGroup...)
	nodeStartTime  = desc("node_supervisord_start_time_seconds", "Start time of a process that is up, in seconds since the epoch (node_exporter's supervisord collector).", nameGroup...)

	procState    = desc("drover_process_state", "1, labelled with the state the process is in (one series per process).", "group", "name", "state")
	procRestarts = desc("drover_process_restarts_total", "Times the process was started again, by reason: crash, memory_limit, rolling, manual.", "group", "name", "reason")
	procRSS      = desc("drover_process_resident_memory_bytes", "Resident memory of the process and its descendants.", groupName...)
	procCPU      = desc("drover_process_cpu_seconds_total", "User and system CPU time of the process and its descendants.", groupName...)
	procUptime   = desc("drover_process_uptime_seconds", "Seconds since the running process was started.", groupName...)
	procMemLimit = desc("drover_process_memory_limit_bytes", "memory_limit of the process, when it has one.", groupName...)

	poolProcesses = desc("drover_pool_processes", "Live workers of the pool (STARTING, RUNNING, BACKOFF), not counting those being drained.", "group")
	poolBusy      = desc("drover_pool_busy_processes", "Live workers whose job lines show a job under way (scaling pools).", "group")
	poolDesired   = desc("drover_pool_desired_processes", "Size the pool's last scaling decision asked for (numprocs when it does not scale).", "group")
	poolMin       = desc("drover_pool_min_processes", "numprocs_min of the pool (numprocs when it does not scale).", "group")
	poolMax       = desc("drover_pool_max_processes", "numprocs_max of the pool (numprocs when it does not scale).", "group")
	poolDecisions = desc("drover_autoscale_decisions_total", "Scaling decisions by what they did: up, down, hold.", "group", "direction")
	jobsProcessed = desc("drover_jobs_processed_total", "Jobs the pool's workers finished, per Laravel's job lines, by outcome: done, failed.", "group", "queue", "outcome")

	queueReachable = desc("drover_queue_reachable", "1 if the queue's last sample succeeded.", "queue")
	queueJobs      = desc("drover_queue_jobs", "Jobs in the queue at its last sample, by state: ready, delayed, reserved.", "queue", "state")
	queueOldest    = desc("drover_queue_oldest_job_age_seconds", "How long the oldest ready job has waited, at the last sample (a lower bound).", "queue")

	eventsDropped = desc("drover_events_dropped_total", "Events a slow subscriber of the daemon's event bus lost (its oldest), by subscriber.", "subscriber")
)

// collector turns one Snapshot into metrics at each scrape.
type collector struct{ opts Options }

func newCollector(opts Options) *collector { return &collector{opts} }

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{nodeUp, nodeState, nodeExitStatus, nodeStartTime,
		procState, procRestarts, procRSS, procCPU, procUptime, procMemLimit,
		poolProcesses, poolBusy, poolDesired, poolMin, poolMax, poolDecisions, jobsProcessed,
		queueReachable, queueJobs, queueOldest, eventsDropped} {
		ch <- d
	}
}

// Collect runs in a goroutine of the registry's: a panic there would end
// the daemon, so it is recovered, logged at CRIT and fails this scrape.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	if p := guard.Run("metrics scrape", func() { c.collect(ch) }); p != nil {
		ch <- prometheus.NewInvalidMetric(procState, p)
	}
}

func (c *collector) collect(ch chan<- prometheus.Metric) {
	snap := c.opts.Snapshot()
	trees := c.readTrees(snap)
	// A name Prometheus refuses (not UTF-8) fails its sample, not the scrape.
	emit := func(d *prometheus.Desc, t prometheus.ValueType, v float64, labels []string) {
		m, err := prometheus.NewConstMetric(d, t, v, labels...)
		if err != nil {
			m = prometheus.NewInvalidMetric(d, err)
		}
		ch <- m
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) { emit(d, prometheus.GaugeValue, v, labels) }
	counter := func(d *prometheus.Desc, v float64, labels ...string) { emit(d, prometheus.CounterValue, v, labels) }
	queues := map[string]*supervisor.WorkerPool{}
	for _, g := range snap.Groups {
		for i := range g.Processes {
			p := &g.Processes[i]
			up := p.State == process.Starting || p.State == process.Running || p.State == process.Stopping
			gauge(nodeUp, float64(boolInt(up)), p.Name, p.Group)
			gauge(nodeState, float64(p.State), p.Name, p.Group)
			gauge(nodeExitStatus, float64(p.ExitStatus), p.Name, p.Group)
			if up {
				counter(nodeStartTime, float64(p.Start.Unix()), p.Name, p.Group)
			}
			gauge(procState, 1, p.Group, p.Name, p.State.String())
			for r, n := range p.Restarts {
				counter(procRestarts, float64(n), p.Group, p.Name, supervisor.RestartReason(r).String())
			}
			if p.PID > 0 {
				u := trees.Usage(p.PID)
				gauge(procRSS, float64(u.RSS), p.Group, p.Name)
				counter(procCPU, u.CPU.Seconds(), p.Group, p.Name)
			}
			if p.State == process.Running {
				gauge(procUptime, max(snap.Taken.Sub(p.Start), 0).Seconds(), p.Group, p.Name)
			}
			if p.MemoryLimit > 0 {
				gauge(procMemLimit, float64(p.MemoryLimit), p.Group, p.Name)
			}
		}
		pl := g.Pool
		if pl == nil {
			continue
		}
		gauge(poolProcesses, float64(pl.Workers), g.Name)
		gauge(poolMin, float64(pl.Min), g.Name)
		gauge(poolMax, float64(pl.Max), g.Name)
		gauge(poolDesired, float64(pl.Desired()), g.Name)
		if !pl.Scaling {
			continue
		}
		queue := pl.QueueName()
		gauge(poolBusy, float64(pl.Busy), g.Name)
		counter(poolDecisions, float64(pl.Decisions.Up), g.Name, "up")
		counter(poolDecisions, float64(pl.Decisions.Down), g.Name, "down")
		counter(poolDecisions, float64(pl.Decisions.Hold), g.Name, "hold")
		counter(jobsProcessed, float64(pl.Jobs.Done), g.Name, queue, "done")
		counter(jobsProcessed, float64(pl.Jobs.Failed), g.Name, queue, "failed")
		// Pools watching the same queue report its latest sample once.
		if seen := queues[queue]; !pl.SampledAt.IsZero() && (seen == nil || pl.SampledAt.After(seen.SampledAt)) {
			queues[queue] = pl
		}
	}
	for queue, pl := range queues {
		gauge(queueReachable, float64(boolInt(pl.QueueOK)), queue)
		if !pl.QueueOK {
			continue
		}
		gauge(queueJobs, float64(pl.Sample.Ready), queue, "ready")
		gauge(queueJobs, float64(pl.Sample.Delayed), queue, "delayed")
		gauge(queueJobs, float64(pl.Sample.Reserved), queue, "reserved")
		gauge(queueOldest, pl.Sample.OldestWait.Seconds(), queue)
	}
	if c.opts.EventsDropped != nil {
		for name, n := range c.opts.EventsDropped() {
			counter(eventsDropped, float64(n), name)
		}
	}
}

// readTrees reads the process table once, if any process has a pid.
func (c *collector) readTrees(snap supervisor.Snapshot) proctree.Trees {
	for _, g := range snap.Groups {
		for _, p := range g.Processes {
			if p.PID > 0 {
				t, err := proctree.Read(c.opts.Procfs)
				if err != nil && c.opts.Log != nil {
					c.opts.Log.Logf(config.LevelWarn, "metrics: %v", err)
				}
				return t.Trees()
			}
		}
	}
	return proctree.Table(nil).Trees()
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
