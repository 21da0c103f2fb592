package conformance

import (
	"cmp"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/drover/drover/tests/laravelenv"
)

const supervisord = "/usr/bin/supervisord"

var (
	skipReason string
	droverBin  string
)

func TestMain(m *testing.M) { os.Exit(runMain(m)) }

func runMain(m *testing.M) int {
	for _, bin := range []string{supervisord, supervisorctl} {
		if _, err := os.Stat(bin); err != nil {
			skipReason = "Debian's Supervisor is not installed (" + err.Error() + "); scripts/install-test-deps.sh installs it"
			return m.Run()
		}
	}
	var remove func()
	var err error
	droverBin, remove, err = laravelenv.DroverBin("drover-conformance", os.Getenv("CONFORMANCE_DROVER"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer remove()
	return m.Run()
}

// envInt reads a number from the environment, or def.
func envInt(t *testing.T, name string, def uint64) uint64 {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		t.Fatalf("%s=%q: %v", name, v, err)
	}
	return n
}

// TestConformance runs generated cases against Supervisor and Drover side
// by side. CONFORMANCE_SEED (default 1, the fixed slice CI runs) and
// CONFORMANCE_CASES (default 4) choose the cases; case i has seed
// seed*1000003+i, so `-run TestConformance/case007` with the same
// CONFORMANCE_SEED runs one again. CONFORMANCE_SHRINK bounds the re-runs
// spent making a failing case smaller (default 12). CONFORMANCE_CTL=drover
// drives both daemons with Drover's supervisorctl instead of Debian's.
// CONFORMANCE_BUDGET (default 4m, 0 for none) bounds the time after which
// cases not yet started are skipped, so the CI slice stays bounded on a
// loaded machine.
func TestConformance(t *testing.T) {
	if skipReason != "" {
		t.Skip(skipReason)
	}
	seed := envInt(t, "CONFORMANCE_SEED", 1)
	cases := envInt(t, "CONFORMANCE_CASES", 4)
	shrinkRuns := int(envInt(t, "CONFORMANCE_SHRINK", 12))
	budget, err := time.ParseDuration(cmp.Or(os.Getenv("CONFORMANCE_BUDGET"), "4m"))
	if err != nil {
		t.Fatalf("CONFORMANCE_BUDGET: %v", err)
	}
	t.Logf("CONFORMANCE_SEED=%d CONFORMANCE_CASES=%d", seed, cases)
	began := time.Now()
	for i := range cases {
		t.Run(fmt.Sprintf("case%03d", i), func(t *testing.T) {
			t.Parallel()
			if budget > 0 && time.Since(began) > budget {
				t.Skipf("CONFORMANCE_BUDGET (%v) spent before this case could start", budget)
			}
			tc := genCase(seed*1000003 + i)
			var diffs, differed []string
			for run := 1; diffs == nil; run++ {
				d, overload, err := compare(tc)
				switch {
				case err != nil:
					t.Fatal(err)
				case len(d) == 0:
					if differed != nil {
						t.Logf("differed once, then not (timing on a loaded machine?):\n%s", strings.Join(differed, "\n"))
					}
					t.Logf("same: %d programs, %d commands", len(tc.conf.programs), len(tc.steps))
					return
				case overload != "" && run >= 4:
					t.Skipf("the machine is too loaded to judge by: %s", overload)
				case overload != "":
					t.Logf("run %d: %s; running it again", run, overload)
				case differed == nil:
					// A loaded machine can hold Supervisor's poll back past
					// a startsecs boundary: a difference counts once it
					// comes again.
					differed = d
				default:
					diffs = d
				}
			}
			small, smallDiffs := shrink(tc, diffs, shrinkRuns)
			t.Errorf("Supervisor and Drover differ (CONFORMANCE_SEED=%d -run TestConformance/case%03d)\n%s\nreproduction:\n%s",
				seed, i, strings.Join(smallDiffs, "\n"), small)
		})
	}
}

var daemons = [2]daemonSpec{
	{name: "supervisord", argv: []string{supervisord}},
	{name: "drover"},
}

// compare runs the case against both daemons at once and returns the
// differences, and what made either run too slow to judge by, if anything.
func compare(tc testCase) (diffs []string, overload string, err error) {
	specs := daemons
	specs[1].argv = []string{droverBin, "daemon"}
	var got [2]transcript
	var errs [2]error
	var wg sync.WaitGroup
	for i, spec := range specs {
		wg.Go(func() { got[i], errs[i] = run(spec, tc) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return nil, "", fmt.Errorf("%s: %w", specs[i].name, err)
		}
	}
	diffs = differences(got[0], got[1])
	for i, tr := range got {
		if o := overloaded(tr, tc); o != "" && len(diffs) > 0 {
			overload = specs[i].name + ": " + o
		}
	}
	return diffs, overload, nil
}

// overloaded says what, in a transcript, only a machine too loaded to
// judge by produces: a program that exits at once staying up past its
// startsecs, seen as a "success:" line or as an exit that is "expected"
// (an exit seen after startsecs goes from STARTING through RUNNING to
// EXITED without the "success:" line).
func overloaded(tr transcript, tc testCase) string {
	fast, other := map[string]bool{}, map[string]bool{}
	for _, p := range tc.allPrograms() {
		for _, n := range p.processNames() {
			if p.kind == kindFastExit && p.startsecs > 0 {
				fast[n] = true
			} else {
				other[n] = true
			}
		}
	}
	for n, lines := range tr.states {
		if fast[n] && !other[n] && slices.ContainsFunc(lines, func(l string) bool {
			return strings.Contains(l, " success: ") || strings.Contains(l, " exited: ") && strings.HasSuffix(l, "; expected)")
		}) {
			return n + " exits at once but stayed up past startsecs"
		}
	}
	return ""
}

// differences lists, in the order a reader wants them, every command whose
// output or exit status differs and every state-line stream that differs.
func differences(sup, drv transcript) []string {
	var out []string
	for i := range max(len(sup.entries), len(drv.entries)) {
		var s, d entry
		if i < len(sup.entries) {
			s = sup.entries[i]
		}
		if i < len(drv.entries) {
			d = drv.entries[i]
		}
		if s == d && s.notes != "" {
			// Neither daemon settled (or shut down): the generator made a
			// case whose outcome is timing, or both are wrong.
			out = append(out, fmt.Sprintf("after `%s`, both daemons:\n%s", s.cmd, indent(s.notes)))
		} else if s != d {
			out = append(out, fmt.Sprintf("`%s`:\n  supervisord (exit %d):\n%s  drover      (exit %d):\n%s",
				s.cmd, s.code, indent(s.out+s.notes), d.code, indent(d.out+d.notes)))
		}
	}
	var streams []string
	for k := range sup.states {
		streams = append(streams, k)
	}
	for k := range drv.states {
		if _, ok := sup.states[k]; !ok {
			streams = append(streams, k)
		}
	}
	slices.Sort(streams)
	for _, k := range streams {
		s, d := sup.states[k], drv.states[k]
		if sup.shared[k] || drv.shared[k] {
			s, d = slices.Sorted(slices.Values(s)), slices.Sorted(slices.Values(d))
		}
		if !slices.Equal(s, d) {
			out = append(out, fmt.Sprintf("main log, %s:\n  supervisord:\n%s  drover:\n%s",
				k, indent(strings.Join(sup.states[k], "\n")), indent(strings.Join(drv.states[k], "\n"))))
		}
	}
	return out
}

func indent(s string) string {
	if s == "" {
		return "    (nothing)\n"
	}
	return "    " + strings.ReplaceAll(strings.TrimSuffix(s, "\n"), "\n", "\n    ") + "\n"
}

// shrink drops programs, then commands, one at a time, keeping each drop
// after which the case still differs, within `runs` re-runs. It returns the
// smallest case and its differences.
func shrink(tc testCase, diffs []string, runs int) (testCase, []string) {
	deadline := time.Now().Add(10 * time.Minute)
	try := func(c testCase) bool {
		if runs <= 0 || time.Now().After(deadline) {
			return false
		}
		runs--
		d, overload, err := compare(c)
		if err != nil || len(d) == 0 || overload != "" {
			return false
		}
		tc, diffs = c, d
		return true
	}
	var names []string
	for _, p := range tc.allPrograms() {
		if !slices.Contains(names, p.name) {
			names = append(names, p.name)
		}
	}
	for _, n := range names {
		if len(tc.conf.programs) > 1 || !slices.ContainsFunc(tc.conf.programs, func(p program) bool { return p.name == n }) {
			try(tc.without(n))
		}
	}
	for i := len(tc.steps) - 2; i >= 0; i-- {
		c := tc
		c.steps = slices.Delete(slices.Clone(tc.steps), i, i+1)
		try(c)
	}
	return tc, diffs
}
