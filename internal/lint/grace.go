package lint

import (
	"fmt"
	"strings"
	"time"

	"github.com/drover/drover/internal/config"
)

// Rule identifiers of the grace period (drover check --grace).
const (
	RuleGraceProgram  = "stopwaitsecs-grace"
	RuleGraceShutdown = "shutdown-grace"
)

// CheckGrace flags what cannot stop within grace, the time a container
// runtime waits after SIGTERM before it kills everything (Kubernetes'
// terminationGracePeriodSeconds, 30 s by default; docker stop -t, 10 s): a
// program whose stopwaitsecs reaches it, and a shutdown whose worst case —
// the groups stop one after another in reverse priority, each taking up to
// its longest stopwaitsecs — exceeds it.
func CheckGrace(cfg *config.Config, pos *config.Positions, grace time.Duration) []Finding {
	var out []Finding
	seen := map[string]bool{}
	var worst time.Duration
	var slowest []string
	for _, g := range cfg.Groups {
		var groupMax time.Duration
		for _, p := range g.Processes {
			groupMax = max(groupMax, p.StopWait)
			section := config.SectionOf(g, p)
			if seen[section] || p.StopWait < grace {
				continue
			}
			seen[section] = true
			at, ok := pos.Option(section, "stopwaitsecs")
			unset := ""
			if !ok {
				at, unset = pos.Section(section), " (the default)"
			}
			out = append(out, Finding{Pos: at, Program: p.ProgramName, Rule: RuleGraceProgram,
				Problem: fmt.Sprintf("stopwaitsecs=%d%s does not fit the grace period of %s: the runtime kills "+
					"the container before Drover's SIGKILL, with no \"killing\" line to tell", int(p.StopWait/time.Second), unset, grace),
				Fix: fmt.Sprintf("stopwaitsecs below %d, or a longer grace period (terminationGracePeriodSeconds, docker stop -t)",
					int(grace/time.Second))})
		}
		if groupMax > 0 {
			worst += groupMax
			// In stop order: the highest priority number first.
			slowest = append([]string{fmt.Sprintf("%s %ds", g.Name, int(groupMax/time.Second))}, slowest...)
		}
	}
	if worst > grace && len(cfg.Groups) > 1 {
		out = append(out, Finding{Pos: pos.Section("supervisord"), Program: "supervisord", Rule: RuleGraceShutdown,
			Problem: fmt.Sprintf("a shutdown stops the groups one after another and may take %ds (%s), more than "+
				"the grace period of %s", int(worst/time.Second), strings.Join(slowest, " + "), grace),
			Fix: "lower the longest stopwaitsecs, or raise the grace period to cover their sum (plus the preStop drain)"})
	}
	return out
}
