package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// machine describes where the benchmark ran.
type machine struct {
	NProc  int    `json:"nproc"`
	CPU    string `json:"cpu"`
	Kernel string `json:"kernel"`
	Go     string `json:"go"`
	// LoadStart and LoadEnd are /proc/loadavg when the run started and
	// ended: other work on the machine shows up here and in the spread.
	LoadStart string `json:"loadavg_start"`
	LoadEnd   string `json:"loadavg_end,omitempty"`
}

func describeMachine() machine {
	m := machine{NProc: runtime.NumCPU(), Go: runtime.Version()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.Lines(string(b)) {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	m.LoadStart = loadAverage()
	return m
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	return strings.Join(f[:min(3, len(f))], " ")
}

// row is one measure's results for both daemons.
type row struct {
	Scenario string              `json:"scenario"`
	Measure  string              `json:"measure"`
	Key      string              `json:"key"`
	Unit     string              `json:"unit"`
	Goal     *goal               `json:"goal,omitempty"`
	GoalMet  *bool               `json:"goal_met,omitempty"`
	Daemons  map[string]*summary `json:"daemons"`
	// Ratio is the supervisord median over the Drover median.
	Ratio *float64 `json:"ratio_supervisord_over_drover,omitempty"`
	// PeerRatios is each peer's median over the Drover median.
	PeerRatios map[string]float64 `json:"ratios_peer_over_drover,omitempty"`
}

// report is the whole run, as printed and as written to JSON.
type report struct {
	Started  time.Time         `json:"started"`
	Finished time.Time         `json:"finished"`
	Command  []string          `json:"command"`
	Machine  machine           `json:"machine"`
	Versions map[string]string `json:"versions"`
	Options  options           `json:"options"`
	Sizes    sizes             `json:"sizes"`
	Rows     []row             `json:"rows"`
	Notes    []string          `json:"notes"`
	kinds    []daemonKind
}

func newReport(o options, kinds []daemonKind) *report {
	r := &report{Started: time.Now().UTC(), Command: os.Args, Machine: describeMachine(),
		Versions: map[string]string{}, Options: o, Sizes: o.sizes(), kinds: kinds, Notes: []string{}}
	for _, k := range kinds {
		if k.Version == nil {
			r.Versions[k.Name] = "started as: " + strings.Join(k.Start, " ")
			continue
		}
		r.Versions[k.Name] = version(k.Version)
	}
	return r
}

func version(cmd []string) string {
	out, err := exec.Command(cmd[0], cmd[1:]...).CombinedOutput()
	if err != nil {
		return "unknown"
	}
	return firstLine(string(out))
}

// add summarises the samples of one scenario: samples[daemon][measure key].
func (r *report) add(sc scenario, samples map[string]map[string][]float64) {
	for _, m := range sc.Measures {
		rw := row{Scenario: sc.Name, Measure: m.Name, Key: m.Key, Unit: m.Unit, Daemons: map[string]*summary{}}
		for _, k := range r.kinds {
			if xs := samples[k.Name][m.Key]; len(xs) > 0 {
				s := summarize(xs)
				rw.Daemons[k.Name] = &s
			}
		}
		if len(rw.Daemons) == 0 {
			continue // e.g. a ctl that does not exist
		}
		drv := rw.Daemons["drover"]
		if sup := rw.Daemons["supervisord"]; sup != nil && drv != nil && drv.Median != 0 {
			ratio := sup.Median / drv.Median
			rw.Ratio = &ratio
		}
		for _, k := range r.peers() {
			if p := rw.Daemons[k.Name]; p != nil && drv != nil && drv.Median != 0 {
				if rw.PeerRatios == nil {
					rw.PeerRatios = map[string]float64{}
				}
				rw.PeerRatios[k.Name] = p.Median / drv.Median
			}
		}
		if m.Goal.Op != "" {
			g := m.Goal
			rw.Goal = &g
			if drv != nil {
				met := g.met(drv.Median)
				rw.GoalMet = &met
			}
		}
		r.Rows = append(r.Rows, rw)
	}
}

// peers are the daemons given with --peer, in the order given.
func (r *report) peers() []daemonKind {
	var out []daemonKind
	for _, k := range r.kinds {
		if k.Name != "supervisord" && k.Name != "drover" {
			out = append(out, k)
		}
	}
	return out
}

// formatValue prints v with a precision that suits its unit.
func formatValue(v float64, unit string) string {
	switch {
	case unit == "s" && v < 10:
		return strconv.FormatFloat(v, 'f', 3, 64)
	case unit == "×":
		return strconv.FormatFloat(v, 'f', 2, 64)
	case unit == "ms" || unit == "MB" || unit == "%" || unit == "% core" || unit == "s":
		return strconv.FormatFloat(v, 'f', 1, 64)
	default:
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
}

func formatSummary(s *summary, unit string) string {
	if s == nil {
		return "–"
	}
	if len(s.Runs) == 1 {
		return formatValue(s.Median, unit)
	}
	return fmt.Sprintf("%s [%s–%s]", formatValue(s.Median, unit), formatValue(s.Min, unit), formatValue(s.Max, unit))
}

func formatVals(sc scenario, vals map[string]float64) string {
	var parts []string
	for _, m := range sc.Measures {
		if v, ok := vals[m.Key]; ok {
			parts = append(parts, fmt.Sprintf("%s=%s", m.Key, formatValue(v, m.Unit)))
		}
	}
	return strings.Join(parts, " ")
}

// printTable writes the results as a Markdown table, ready for docs/benchmark.md.
func (r *report) printTable(w io.Writer) {
	fmt.Fprintf(w, "\nMachine: %d CPUs, %s, Linux %s, %s; load average %s at the start, %s at the end. Runs: %d interleaved pairs%s.\n",
		r.Machine.NProc, r.Machine.CPU, r.Machine.Kernel, r.Machine.Go, r.Machine.LoadStart, r.Machine.LoadEnd,
		r.Options.Runs, map[bool]string{true: " (--quick)"}[r.Options.Quick])
	for _, k := range r.kinds {
		fmt.Fprintf(w, "%s: %s\n", k.Name, r.Versions[k.Name])
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', tabwriter.Debug)
	peers := r.peers()
	head := "| scenario\t measure\t unit\t supervisord median [min–max]"
	for _, k := range peers {
		head += "\t " + k.Name + " median [min–max]"
	}
	head += "\t drover median [min–max]\t sup/drover"
	for _, k := range peers {
		head += "\t " + k.Name + "/drover"
	}
	fmt.Fprintln(tw, head+"\t goal (drover)\t met |")
	fmt.Fprintln(tw, "|---\t---\t---\t---"+strings.Repeat("\t---", 2*len(peers))+"\t---\t---\t---\t--- |")
	for _, rw := range r.Rows {
		ratio, goalText, met := "–", "", ""
		if rw.Ratio != nil {
			ratio = strconv.FormatFloat(*rw.Ratio, 'f', 2, 64)
		}
		var peerMedians, peerRatios string
		for _, k := range peers {
			peerMedians += "\t " + formatSummary(rw.Daemons[k.Name], rw.Unit)
			pr, ok := rw.PeerRatios[k.Name]
			peerRatios += "\t " + map[bool]string{true: strconv.FormatFloat(pr, 'f', 2, 64), false: "–"}[ok]
		}
		if rw.Goal != nil {
			goalText = rw.Goal.String() + " " + rw.Unit
		}
		if rw.GoalMet != nil {
			met = map[bool]string{true: "yes", false: "**no**"}[*rw.GoalMet]
		}
		fmt.Fprintf(tw, "| %s\t %s\t %s\t %s%s\t %s\t %s%s\t %s\t %s |\n", rw.Scenario, rw.Measure, rw.Unit,
			formatSummary(rw.Daemons["supervisord"], rw.Unit), peerMedians, formatSummary(rw.Daemons["drover"], rw.Unit),
			ratio, peerRatios, goalText, met)
	}
	tw.Flush()
	for _, n := range r.Notes {
		fmt.Fprintln(w, "note:", n)
	}
}

// writeJSON writes the report to path ("" picks bench/results/<time>.json
// under the module root or the current directory, "none" skips).
func (r *report) writeJSON(path string) error {
	if path == "none" {
		return nil
	}
	if path == "" {
		dir := "bench/results"
		if root, err := exec.Command("go", "env", "GOMOD").Output(); err == nil {
			if mod := strings.TrimSpace(string(root)); mod != "" && mod != os.DevNull {
				dir = filepath.Join(filepath.Dir(mod), dir)
			}
		}
		name := r.Started.Format("20060102T150405Z")
		if r.Options.Quick {
			name += "-quick"
		}
		path = filepath.Join(dir, name+".json")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	fmt.Fprintln(os.Stderr, "results written to", path)
	return nil
}
