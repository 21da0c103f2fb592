package lint

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/sysnames"
)

// Finding is one problem in the configuration.
type Finding struct {
	Pos     config.Pos // where to change it (the option, or its section when unset)
	Program string
	Rule    string // stable identifier, e.g. "stopwaitsecs-timeout"
	Problem string
	Fix     string
	// Warning marks a finding that does not lose jobs under Drover (it
	// matters when the same file also runs under Python Supervisor); it
	// does not make drover check fail.
	Warning bool
}

// Rule identifiers.
const (
	RuleStopWait      = "stopwaitsecs-timeout"
	RuleRetryAfter    = "timeout-retry-after"
	RuleNoTimeout     = "timeout-disabled"
	RuleStopSignal    = "stopsignal"
	RuleAutoRestart   = "autorestart"
	RuleStopAsGroup   = "stopasgroup"
	RuleSharedLogfile = "shared-logfile-rotation"
)

// Laravel's defaults: queue:work --timeout and the redis connection's
// retry_after in config/queue.php.
const (
	defaultWorkTimeout = 60
	defaultRetryAfter  = 90
	// retryAfterEnv is the variable Laravel's skeleton reads retry_after from.
	retryAfterEnv = "REDIS_QUEUE_RETRY_AFTER"
)

// workerKind says which Laravel command a program runs.
type workerKind int

const (
	notWorker     workerKind = iota
	queueWorker              // artisan queue:work / queue:listen
	horizonMaster            // artisan horizon
)

func (k workerKind) String() string {
	if k == horizonMaster {
		return "horizon"
	}
	return "queue:work"
}

// detect finds the Laravel command in argv and, for queue workers, the job
// timeout in seconds (--timeout=N or --timeout N, default 60).
func detect(argv []string) (kind workerKind, timeout int, timeoutErr string) {
	for i, a := range argv {
		switch a {
		case "queue:work", "queue:listen":
			kind = queueWorker
		case "horizon":
			if i > 0 {
				kind = horizonMaster
			}
		}
	}
	if kind != queueWorker {
		return kind, 0, ""
	}
	timeout = defaultWorkTimeout
	for i, a := range argv {
		v, ok := strings.CutPrefix(a, "--timeout=")
		if !ok && a == "--timeout" && i+1 < len(argv) {
			v, ok = argv[i+1], true
		}
		if !ok {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return kind, 0, v
		}
		timeout = n
	}
	return kind, timeout, ""
}

// Check returns the findings of cfg in file and line order; pos locates them.
func Check(cfg *config.Config, pos *config.Positions) []Finding {
	var out []Finding
	seen := map[string]bool{}
	for _, g := range cfg.Groups {
		for _, p := range g.Processes {
			section := config.SectionOf(g, p)
			if seen[section] {
				continue // numprocs processes share their section's settings
			}
			seen[section] = true
			out = append(out, checkProgram(section, p, pos)...)
		}
	}
	out = append(out, sharedLogs(cfg, pos)...)
	return sortFindings(cfg, out)
}

// sortFindings orders findings by file (the main file first, then the
// included files in the order read) and line.
func sortFindings(cfg *config.Config, out []Finding) []Finding {
	fileOrder := func(f string) int { return slices.Index(cfg.Included, f) }
	slices.SortStableFunc(out, func(a, b Finding) int {
		return cmp.Or(cmp.Compare(fileOrder(a.Pos.File), fileOrder(b.Pos.File)), cmp.Compare(a.Pos.Line, b.Pos.Line))
	})
	return out
}

// checkProgram applies the worker rules to one section.
func checkProgram(section string, p *config.Process, pos *config.Positions) []Finding {
	kind, timeout, badTimeout := detect(p.Argv)
	if kind == notWorker {
		return nil
	}
	var out []Finding
	at := func(option string) config.Pos {
		if ps, ok := pos.Option(section, option); ok {
			return ps
		}
		return pos.Section(section)
	}
	unset := func(option string) string {
		if _, ok := pos.Option(section, option); ok {
			return ""
		}
		return " (the default)"
	}
	add := func(option, rule, problem, fix string) {
		out = append(out, Finding{Pos: at(option), Program: p.ProgramName, Rule: rule, Problem: problem, Fix: fix})
	}
	if kind == queueWorker {
		stopWait := int(p.StopWait / time.Second)
		retryAfter, retryFrom := retryAfter(p)
		switch {
		case badTimeout != "":
			add("command", RuleNoTimeout, fmt.Sprintf("--timeout=%s is not a number of seconds", badTimeout),
				"give --timeout a whole number of seconds")
		case timeout == 0:
			add("command", RuleNoTimeout, fmt.Sprintf("--timeout=0 disables the job timeout: a job running longer "+
				"than retry_after (%ds, %s) is handed to a second worker, and no stopwaitsecs is long enough", retryAfter, retryFrom),
				fmt.Sprintf("set --timeout below retry_after, e.g. --timeout=%d", max(retryAfter-10, 1)))
		default:
			if stopWait <= timeout {
				add("stopwaitsecs", RuleStopWait, fmt.Sprintf("stopwaitsecs=%d%s is not longer than --timeout=%d: "+
					"stop, restart and update SIGKILL a job still running after %ds", stopWait, unset("stopwaitsecs"), timeout, stopWait),
					fmt.Sprintf("stopwaitsecs=%d (more than --timeout)", timeout+10))
			}
			if timeout >= retryAfter {
				add("command", RuleRetryAfter, fmt.Sprintf("--timeout=%d is not below retry_after=%d (%s): "+
					"a job still running after %ds is handed to a second worker and runs twice", timeout, retryAfter, retryFrom, retryAfter),
					fmt.Sprintf("--timeout=%d (a few seconds below retry_after), or raise retry_after in config/queue.php "+
						"and set retry_after=%d here", max(retryAfter-10, 1), timeout+10))
			}
		}
	}
	if p.StopSignal != syscall.SIGTERM {
		add("stopsignal", RuleStopSignal, fmt.Sprintf("stopsignal=%s: %s finishes its job only on TERM "+
			"(QUIT from Laravel 9.24, INT from 12.22); other signals kill the job mid-run",
			strings.TrimPrefix(sysnames.SignalName(p.StopSignal), "SIG"), kind),
			"stopsignal=TERM")
	}
	switch p.AutoRestart {
	case config.RestartNever:
		add("autorestart", RuleAutoRestart, fmt.Sprintf("autorestart=false: a %s worker that exits "+
			"(queue:restart, --max-jobs, --memory, a crash) is not replaced and its queue stops draining", kind),
			"autorestart=true")
	case config.RestartUnexpected:
		if slices.Contains(p.ExitCodes, 0) {
			add("autorestart", RuleAutoRestart, fmt.Sprintf("autorestart=unexpected%s with exitcodes=%s: "+
				"a %s worker exits 0 after queue:restart, --max-jobs and --max-time and is then not restarted",
				unset("autorestart"), joinInts(p.ExitCodes), kind), "autorestart=true")
		}
	}
	if kind == horizonMaster && !p.StopAsGroup {
		add("stopasgroup", RuleStopAsGroup, "horizon runs its workers as child processes: without stopasgroup "+
			"the SIGKILL after stopwaitsecs reaches only the master and orphans workers mid-job",
			"stopasgroup=true (it implies killasgroup=true)")
	}
	return out
}

// retryAfter is the retry_after option, else REDIS_QUEUE_RETRY_AFTER from
// the program's environment, else Laravel's default; with where it came from.
func retryAfter(p *config.Process) (int, string) {
	if p.Worker != nil && p.Worker.RetryAfter > 0 {
		return p.Worker.RetryAfter, "retry_after option"
	}
	for _, e := range p.Environment {
		if e.Key == retryAfterEnv {
			if n, err := strconv.Atoi(strings.TrimSpace(e.Value)); err == nil && n > 0 {
				return n, retryAfterEnv
			}
		}
	}
	return defaultRetryAfter, "Laravel's default"
}

// sharedLogs flags log files written by more than one process when they
// rotate: each process rotates the file under the others, which then keep
// writing to the renamed file (Supervisor #1609).
func sharedLogs(cfg *config.Config, pos *config.Positions) []Finding {
	type use struct {
		section, option string
		program         string
		rotates         bool
	}
	users := map[string][]use{}
	var paths []string
	for _, g := range cfg.Groups {
		for _, p := range g.Processes {
			for _, ch := range []struct {
				name string
				log  config.ChildLog
			}{{"stdout", p.Stdout}, {"stderr", p.Stderr}} {
				if ch.log.Kind != config.LogFile || strings.HasPrefix(ch.log.Path, "/dev/") ||
					ch.name == "stderr" && p.RedirectStderr {
					continue
				}
				if users[ch.log.Path] == nil {
					paths = append(paths, ch.log.Path)
				}
				users[ch.log.Path] = append(users[ch.log.Path], use{config.SectionOf(g, p),
					ch.name + "_logfile", p.ProgramName, ch.log.MaxBytes > 0})
			}
		}
	}
	var out []Finding
	for _, path := range paths {
		us := users[path]
		if len(us) < 2 || !slices.ContainsFunc(us, func(u use) bool { return u.rotates }) {
			continue
		}
		u := us[0]
		p, ok := pos.Option(u.section, u.option)
		if !ok {
			p = pos.Section(u.section)
		}
		out = append(out, Finding{Pos: p, Program: u.program, Rule: RuleSharedLogfile,
			Problem: fmt.Sprintf("%d processes write %s and rotate it (%s_maxbytes > 0): under Python Supervisor "+
				"each rotates the file under the others, which keep writing to the renamed file "+
				"(Drover writes a shared file through one writer)", len(us), path, u.option),
			Warning: true,
			Fix: fmt.Sprintf("put %%(process_num)02d in %s so each process has its own file, "+
				"or set %s_maxbytes=0 and rotate with logrotate", u.option, u.option)})
	}
	return out
}

func joinInts(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ",")
}
