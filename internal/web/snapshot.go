package web

import (
	"os"
	"time"

	"github.com/drover/drover/internal/proctree"
	"github.com/drover/drover/internal/supervisor"
)

// snapshot is one message of the events stream: everything the page shows.
// CPU figures are cumulative seconds; the page turns two of them into a
// percentage, so the daemon keeps no history.
type snapshot struct {
	Now              int64        `json:"now"`     // unix milliseconds
	UsageAt          int64        `json:"usageAt"` // when CPU and memory were read, unix ms; 0 if never
	Daemon           usage        `json:"daemon"`
	RestartsLastHour int          `json:"restartsLastHour"`
	Processes        []processRow `json:"processes"`
	Pools            []poolRow    `json:"pools"`
	Fleet            bool         `json:"fleet"` // the fleet page exists ([fleet])
}

type usage struct {
	CPU float64 `json:"cpu"` // seconds
	RSS int64   `json:"rss"` // bytes
}

type processRow struct {
	Group       string  `json:"group"`
	Name        string  `json:"name"`
	Namespec    string  `json:"namespec"`
	State       string  `json:"state"`
	Description string  `json:"description"`
	PID         int     `json:"pid"`
	Start       int64   `json:"start"` // unix seconds, 0 if never
	Restarts    uint64  `json:"restarts"`
	CPU         float64 `json:"cpu"` // seconds used by the process tree
	RSS         int64   `json:"rss"` // bytes of the process tree
	MemoryLimit int64   `json:"memoryLimit"`
}

type poolRow struct {
	Group      string `json:"group"`
	Scaling    bool   `json:"scaling"`
	Queue      string `json:"queue"`
	QueueOK    bool   `json:"queueOk"`
	QueueError string `json:"queueError"`
	Ready      int    `json:"ready"` // in the lists, plus delayed jobs now due
	Delayed    int    `json:"delayed"`
	Reserved   int    `json:"reserved"`
	OldestWait int64  `json:"oldestWait"` // seconds
	Workers    int    `json:"workers"`
	Busy       int    `json:"busy"`
	Min        int    `json:"min"`
	Target     int    `json:"target"`
	Max        int    `json:"max"`
	Decision   string `json:"decision"`
	DecidedAt  int64  `json:"decidedAt"` // unix seconds, 0 if never
	Rolling    string `json:"rolling"`
	JobsDone   uint64 `json:"jobsDone"`
	JobsFailed uint64 `json:"jobsFailed"`
	// MeanJob is the mean job time in seconds, EstimatedWait is
	// ready × MeanJob ÷ workers; both -1 while unknown (no job timed yet,
	// or no worker).
	MeanJob       float64 `json:"meanJob"`
	EstimatedWait float64 `json:"estimatedWait"`
}

// resources are the CPU and memory figures of one reading of the process
// table.
type resources struct {
	readAt time.Time      // when the stream last asked for them
	at     time.Time      // when the table was read; zero if never
	trees  proctree.Trees // the trees of every process
}

// build makes the page's snapshot of snap with res's figures.
func build(snap supervisor.Snapshot, res resources) snapshot {
	daemon := res.trees.Process(os.Getpid())
	s := snapshot{
		Now:              time.Now().UnixMilli(),
		RestartsLastHour: snap.RecentRestarts,
		Daemon:           usage{CPU: daemon.CPU.Seconds(), RSS: daemon.RSS},
		Processes:        []processRow{},
		Pools:            []poolRow{},
	}
	if !res.at.IsZero() {
		s.UsageAt = res.at.UnixMilli()
	}
	for _, g := range snap.Groups {
		for _, p := range g.Processes {
			row := processRow{Group: p.Group, Name: p.Name, Namespec: p.Namespec, State: p.State.String(),
				Description: p.Description, PID: p.PID, Start: unixOrZero(p.Start),
				Restarts: p.Restarts.Total(), MemoryLimit: p.MemoryLimit}
			if p.PID > 0 {
				tree := res.trees.Usage(p.PID)
				row.CPU, row.RSS = tree.CPU.Seconds(), tree.RSS
			}
			s.Processes = append(s.Processes, row)
		}
		if pl := g.Pool; pl != nil {
			s.Pools = append(s.Pools, poolFigures(g.Name, pl))
		}
	}
	return s
}

// poolFigures is the workload row of group's pool.
func poolFigures(group string, pl *supervisor.WorkerPool) poolRow {
	row := poolRow{Group: group, Scaling: pl.Scaling, Queue: pl.Queue, QueueOK: pl.QueueOK,
		QueueError: pl.QueueError, Ready: pl.Sample.Ready + pl.Sample.Due, Delayed: pl.Sample.Delayed,
		Reserved: pl.Sample.Reserved, OldestWait: int64(pl.Sample.OldestWait.Seconds()),
		Workers: pl.Workers, Busy: pl.Busy, Min: pl.Min, Target: pl.Target, Max: pl.Max,
		Decision: pl.Decision, DecidedAt: unixOrZero(pl.DecidedAt), Rolling: pl.Rolling,
		JobsDone: pl.Jobs.Done, JobsFailed: pl.Jobs.Failed, MeanJob: -1, EstimatedWait: -1}
	if n := pl.Jobs.Done + pl.Jobs.Failed; n > 0 {
		row.MeanJob = pl.Jobs.Time.Seconds() / float64(n)
		if pl.Workers > 0 {
			row.EstimatedWait = float64(row.Ready) * row.MeanJob / float64(pl.Workers)
		}
	}
	return row
}

func unixOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}
