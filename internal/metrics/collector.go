package metrics

import (
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/process"
	"github.com/drover/drover/internal/proctree"
	"github.com/drover/drover/internal/supervisor"
)

// The metrics, as docs/observability.md lists them. node_exporter's
// supervisord collector's metrics are labelled name and group; every
// series writes its labels in alphabetical order.
var (
	nodeUp         = gaugeFamily("node_supervisord_up", "1 if the process is STARTING, RUNNING or STOPPING (node_exporter's supervisord collector).")
	nodeState      = gaugeFamily("node_supervisord_state", "Supervisor's state code of the process (node_exporter's supervisord collector).")
	nodeExitStatus = gaugeFamily("node_supervisord_exit_status", "Exit status of the process's last exit (node_exporter's supervisord collector).")
	nodeStartTime  = counterFamily("node_supervisord_start_time_seconds", "Start time of a process that is up, in seconds since the epoch (node_exporter's supervisord collector).")

	procState    = gaugeFamily("drover_process_state", "1, labelled with the state the process is in (one series per process).")
	procRestarts = counterFamily("drover_process_restarts_total", "Times the process was started again, by reason: crash, memory_limit, rolling, manual.")
	procRSS      = gaugeFamily("drover_process_resident_memory_bytes", "Resident memory of the process and its descendants.")
	procCPU      = counterFamily("drover_process_cpu_seconds_total", "User and system CPU time of the process and its descendants.")
	procUptime   = gaugeFamily("drover_process_uptime_seconds", "Seconds since the running process was started.")
	procMemLimit = gaugeFamily("drover_process_memory_limit_bytes", "memory_limit of the process, when it has one.")

	poolProcesses = gaugeFamily("drover_pool_processes", "Live workers of the pool (STARTING, RUNNING, BACKOFF), not counting those being drained.")
	poolBusy      = gaugeFamily("drover_pool_busy_processes", "Live workers whose job lines show a job under way (scaling pools).")
	poolDesired   = gaugeFamily("drover_pool_desired_processes", "Size the pool's last scaling decision asked for (numprocs when it does not scale).")
	poolMin       = gaugeFamily("drover_pool_min_processes", "numprocs_min of the pool (numprocs when it does not scale).")
	poolMax       = gaugeFamily("drover_pool_max_processes", "numprocs_max of the pool (numprocs when it does not scale).")
	poolDecisions = counterFamily("drover_autoscale_decisions_total", "Scaling decisions by what they did: up, down, hold.")
	jobsProcessed = counterFamily("drover_jobs_processed_total", "Jobs the pool's workers finished, per Laravel's job lines, by outcome: done, failed.")

	queueReachable = gaugeFamily("drover_queue_reachable", "1 if the queue's last sample succeeded.")
	queueJobs      = gaugeFamily("drover_queue_jobs", "Jobs in the queue at its last sample, by state: ready, delayed, reserved.")
	queueOldest    = gaugeFamily("drover_queue_oldest_job_age_seconds", "How long the oldest ready job has waited, at the last sample (a lower bound).")

	eventsDropped = counterFamily("drover_events_dropped_total", "Events a slow subscriber of the daemon's event bus lost (its oldest), by subscriber.")
)

// collector writes Drover's own metrics from one Snapshot and one reading
// of the process table.
type collector struct {
	opts  Options
	snaps sync.Pool // *supervisor.Snapshot, reused: one of 500 programs is about 250 KB
}

// procRow is one process to report, with its tree's usage.
type procRow struct {
	*supervisor.ProcessSnapshot
	up    bool
	usage proctree.Usage
}

// poolRow is the pool of a group.
type poolRow struct {
	group string
	*supervisor.WorkerPool
}

// write writes every family into e. Processes, pools and queues whose
// names are not valid UTF-8 (Prometheus refuses them) are left out and
// returned, so that they fail only their own series.
func (c *collector) write(e *exposition) (refused []string) {
	snap := c.snaps.Get().(*supervisor.Snapshot)
	defer c.snaps.Put(snap)
	c.opts.Snapshot(snap)
	trees := c.readTrees(*snap)
	n := 0
	for _, g := range snap.Groups {
		n += len(g.Processes)
	}
	rows := make([]procRow, 0, n)
	pools := make([]poolRow, 0, len(snap.Groups))
	for _, g := range snap.Groups {
		for i := range g.Processes {
			p := &g.Processes[i]
			if !validLabels(p.Group, p.Name) {
				refused = append(refused, p.Namespec)
				continue
			}
			r := procRow{ProcessSnapshot: p,
				up: p.State == process.Starting || p.State == process.Running || p.State == process.Stopping}
			if p.PID > 0 {
				r.usage = trees.Usage(p.PID)
			}
			rows = append(rows, r)
		}
		if g.Pool == nil {
			continue
		}
		if !validLabels(g.Name, g.Pool.QueueName()) {
			refused = append(refused, "pool "+g.Name)
			continue
		}
		pools = append(pools, poolRow{g.Name, g.Pool})
	}
	writeProcesses(e, rows, snap.Taken)
	writePools(e, pools)
	if c.opts.EventsDropped != nil {
		dropped := c.opts.EventsDropped()
		for _, name := range slices.Sorted(maps.Keys(dropped)) {
			if validLabels(name) {
				e.sample(eventsDropped, float64(dropped[name]), "subscriber", name)
			}
		}
	}
	return refused
}

func writeProcesses(e *exposition, rows []procRow, now time.Time) {
	each := func(f *family, value func(r *procRow) (float64, bool)) {
		for i := range rows {
			if v, ok := value(&rows[i]); ok {
				e.sample(f, v, "group", rows[i].Group, "name", rows[i].Name)
			}
		}
	}
	each(nodeUp, func(r *procRow) (float64, bool) { return float64(boolInt(r.up)), true })
	each(nodeState, func(r *procRow) (float64, bool) { return float64(r.State), true })
	each(nodeExitStatus, func(r *procRow) (float64, bool) { return float64(r.ExitStatus), true })
	each(nodeStartTime, func(r *procRow) (float64, bool) { return float64(r.Start.Unix()), r.up })
	for _, r := range rows {
		e.sample(procState, 1, "group", r.Group, "name", r.Name, "state", r.State.String())
	}
	for _, r := range rows {
		for reason, n := range r.Restarts {
			e.sample(procRestarts, float64(n), "group", r.Group, "name", r.Name, "reason", supervisor.RestartReason(reason).String())
		}
	}
	each(procRSS, func(r *procRow) (float64, bool) { return float64(r.usage.RSS), r.PID > 0 })
	each(procCPU, func(r *procRow) (float64, bool) { return r.usage.CPU.Seconds(), r.PID > 0 })
	each(procUptime, func(r *procRow) (float64, bool) {
		return max(now.Sub(r.Start), 0).Seconds(), r.State == process.Running
	})
	each(procMemLimit, func(r *procRow) (float64, bool) { return float64(r.MemoryLimit), r.MemoryLimit > 0 })
}

func writePools(e *exposition, pools []poolRow) {
	each := func(f *family, scaling bool, value func(pl poolRow) float64) {
		for _, pl := range pools {
			if pl.Scaling || !scaling {
				e.sample(f, value(pl), "group", pl.group)
			}
		}
	}
	each(poolProcesses, false, func(pl poolRow) float64 { return float64(pl.Workers) })
	each(poolMin, false, func(pl poolRow) float64 { return float64(pl.Min) })
	each(poolMax, false, func(pl poolRow) float64 { return float64(pl.Max) })
	each(poolDesired, false, func(pl poolRow) float64 { return float64(pl.Desired()) })
	each(poolBusy, true, func(pl poolRow) float64 { return float64(pl.Busy) })
	// Pools watching the same queue report its latest sample once.
	queues := map[string]poolRow{}
	for _, pl := range pools {
		if !pl.Scaling {
			continue
		}
		e.sample(poolDecisions, float64(pl.Decisions.Up), "direction", "up", "group", pl.group)
		e.sample(poolDecisions, float64(pl.Decisions.Down), "direction", "down", "group", pl.group)
		e.sample(poolDecisions, float64(pl.Decisions.Hold), "direction", "hold", "group", pl.group)
		if seen := queues[pl.QueueName()]; !pl.SampledAt.IsZero() && (seen.WorkerPool == nil || pl.SampledAt.After(seen.SampledAt)) {
			queues[pl.QueueName()] = pl
		}
	}
	for _, pl := range pools {
		if pl.Scaling {
			e.sample(jobsProcessed, float64(pl.Jobs.Done), "group", pl.group, "outcome", "done", "queue", pl.QueueName())
			e.sample(jobsProcessed, float64(pl.Jobs.Failed), "group", pl.group, "outcome", "failed", "queue", pl.QueueName())
		}
	}
	names := slices.Sorted(maps.Keys(queues))
	for _, q := range names {
		e.sample(queueReachable, float64(boolInt(queues[q].QueueOK)), "queue", q)
	}
	for _, q := range names {
		if s := queues[q].Sample; queues[q].QueueOK {
			e.sample(queueJobs, float64(s.Ready), "queue", q, "state", "ready")
			e.sample(queueJobs, float64(s.Delayed), "queue", q, "state", "delayed")
			e.sample(queueJobs, float64(s.Reserved), "queue", q, "state", "reserved")
		}
	}
	for _, q := range names {
		if queues[q].QueueOK {
			e.sample(queueOldest, queues[q].Sample.OldestWait.Seconds(), "queue", q)
		}
	}
}

// readTrees reads the process table (or takes the sampler's recent
// reading), if any process has a pid.
func (c *collector) readTrees(snap supervisor.Snapshot) proctree.Trees {
	for _, g := range snap.Groups {
		for _, p := range g.Processes {
			if p.PID > 0 {
				t, _, err := c.opts.Procs.Trees()
				if err != nil && c.opts.Log != nil {
					c.opts.Log.Logf(config.LevelWarn, "metrics: %v", err)
				}
				return t
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
