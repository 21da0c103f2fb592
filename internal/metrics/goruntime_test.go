package metrics

import (
	"bytes"
	"runtime"
	"slices"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// The go_* families are those of client_golang's default Go collector,
// which the daemon served before it wrote them itself: the same names,
// types and labels, and the same values where they cannot change between
// two readings.
func TestGoStatsMatchClientGolang(t *testing.T) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector())
	theirs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	ours := goFamilies(t)
	var names []string
	for _, f := range theirs {
		names = append(names, f.GetName())
		o := ours[f.GetName()]
		if o == nil {
			t.Errorf("%s: missing", f.GetName())
			continue
		}
		if o.GetType() != f.GetType() {
			t.Errorf("%s: type %v, client_golang's %v", f.GetName(), o.GetType(), f.GetType())
		}
		if got, want := labelNames(o), labelNames(f); !slices.Equal(got, want) {
			t.Errorf("%s: labels %v, client_golang's %v", f.GetName(), got, want)
		}
	}
	for name := range ours {
		if !slices.Contains(names, name) {
			t.Errorf("%s: not one of client_golang's", name)
		}
	}
	for _, name := range []string{"go_gc_gogc_percent", "go_gc_gomemlimit_bytes", "go_sched_gomaxprocs_threads", "go_info"} {
		if ours[name] == nil || familyByName(theirs, name) == nil {
			continue // reported above
		}
		if got, want := ours[name].Metric[0].GetGauge().GetValue(), familyByName(theirs, name).Metric[0].GetGauge().GetValue(); got != want {
			t.Errorf("%s = %v, client_golang's %v", name, got, want)
		}
	}
	if v := ours["go_info"].GetMetric()[0].GetLabel(); len(v) != 1 || v[0].GetValue() != runtime.Version() {
		t.Errorf("go_info labels %v", v)
	}
	summary := ours["go_gc_duration_seconds"].GetMetric()[0].GetSummary()
	if q := summary.GetQuantile(); len(q) != 5 || q[0].GetValue() > q[4].GetValue() {
		t.Errorf("go_gc_duration_seconds quantiles %v", q)
	}
	// After a collection, its count and time are there.
	runtime.GC()
	after := goFamilies(t)
	if n := after["go_gc_duration_seconds"].GetMetric()[0].GetSummary().GetSampleCount(); n == 0 {
		t.Error("go_gc_duration_seconds_count 0 after a collection")
	}
	if v := after["go_memstats_last_gc_time_seconds"].GetMetric()[0].GetGauge().GetValue(); v < 1e9 {
		t.Errorf("go_memstats_last_gc_time_seconds %v after a collection", v)
	}
}

// goFamilies writes and parses the go_* families.
func goFamilies(t *testing.T) map[string]*dto.MetricFamily {
	t.Helper()
	var out bytes.Buffer
	e := exposition{out: &out}
	newGoStats().write(&e)
	e.flush()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(&out)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return fams
}

func labelNames(f *dto.MetricFamily) []string {
	var names []string
	for _, m := range f.GetMetric() {
		for _, l := range m.GetLabel() {
			if !slices.Contains(names, l.GetName()) {
				names = append(names, l.GetName())
			}
		}
	}
	slices.Sort(names)
	return names
}

func familyByName(fams []*dto.MetricFamily, name string) *dto.MetricFamily {
	for _, f := range fams {
		if f.GetName() == name {
			return f
		}
	}
	return nil
}
