// Package archtest checks the architecture: which internal package may import
// which, so that imports keep flowing one way (config → process engine →
// supervisor → rpc/daemon, and ctl only over XML-RPC), that every package
// says what it owns in a doc comment, that fault and state codes have their
// one home in internal/wire, and that only internal/client speaks XML-RPC to
// the daemon.
package archtest

import (
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/drover/drover/"

// allowed lists, for each internal package, the internal packages its
// non-test files may import. A package missing here fails the test, so a new
// package has to take its place in the graph on purpose.
var allowed = map[string][]string{
	"pyrepr":        nil,
	"wire":          nil,
	"sysnames":      nil,
	"client":        {"wire", "xmlrpc"},
	"version":       nil,
	"xmlrpc":        nil,
	"events":        nil,
	"guard":         nil,
	"latch":         nil,
	"httpmux":       nil,
	"autoscale":     nil,
	"proctree":      nil,
	"reaper":        nil,
	"config":        {"pyrepr", "sysnames"},
	"logs":          {"config", "guard"},
	"probe":         {"config", "reaper"},
	"queue":         {"config"},
	"process":       {"config", "events", "guard", "latch", "pyrepr", "reaper", "sysnames", "wire"},
	"eventlistener": {"config", "events", "guard", "process", "pyrepr"},
	"lint":          {"config", "sysnames"},
	"supervisor":    {"config", "eventlistener", "events", "guard", "latch", "logs", "process", "pyrepr", "wire"},
	"pool":          {"autoscale", "config", "process", "queue", "supervisor"},
	"gate":          {"config", "events", "guard", "probe", "process", "supervisor"},
	"memlimit":      {"config", "process", "proctree", "supervisor"},
	"rpc":           {"config", "events", "guard", "httpmux", "logs", "pool", "process", "pyrepr", "supervisor", "version", "web", "wire", "xmlrpc"},
	"daemon":        {"config", "events", "fleet", "gate", "guard", "handover", "health", "httpmux", "logs", "memlimit", "metrics", "pool", "process", "proctree", "pyrepr", "reaper", "rpc", "supervisor", "sysnames", "version", "web", "wire"},
	"handover":      {"config", "eventlistener", "guard", "pool", "process", "reaper", "supervisor", "version"},
	"ctl":           {"client", "config", "pyrepr", "version", "wire"},
	"cli":           {"ctl", "daemon", "health", "lint", "version"},
	"health":        {"client", "config", "httpmux", "supervisor"},
	"fleet":         {"config", "events", "guard", "process", "supervisor", "version", "wire"},
	"metrics":       {"config", "guard", "httpmux", "process", "proctree", "supervisor"},
	"web":           {"config", "events", "guard", "logs", "process", "proctree", "supervisor", "wire"},
	"e2e":           {"cli"},
	"archtest":      nil,
}

// coreKeepsOut are the packages the supervisor core must not import: the
// queue, scaling, probing and process-table knowledge belongs to the
// features around it (pool, gate, memlimit), which use its hooks.
var coreKeepsOut = []string{
	module + "internal/autoscale",
	module + "internal/queue",
	module + "internal/probe",
	module + "internal/proctree",
	"github.com/redis/go-redis",
}

// TestCoreImportsNoFeature fails when internal/supervisor (or a package of
// it) imports a feature package or go-redis, directly or through another
// package it imports.
func TestCoreImportsNoFeature(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "../supervisor").Output()
	if err != nil {
		t.Fatalf("go list -deps internal/supervisor: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, banned := range coreKeepsOut {
			if dep == banned || strings.HasPrefix(dep, banned+"/") {
				t.Errorf("internal/supervisor depends on %s; features reach the core through its hooks instead", dep)
			}
		}
	}
}

func TestImportsFlowOneWay(t *testing.T) {
	dirs, err := os.ReadDir("..")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		pkg := d.Name()
		want, known := allowed[pkg]
		if !known {
			t.Errorf("internal/%s is not in the import graph of this test: add it with the imports it may use", pkg)
			continue
		}
		for imp, file := range internalImports(t, filepath.Join("..", pkg)) {
			if !slices.Contains(want, imp) {
				t.Errorf("%s imports internal/%s, which internal/%s may not import", file, imp, pkg)
			}
		}
	}
}

// internalImports returns the internal packages imported by the non-test Go
// files of dir, each with one file that imports it.
func internalImports(t *testing.T, dir string) map[string]string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	imps := map[string]string{}
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, is := range af.Imports {
			p := strings.Trim(is.Path.Value, `"`)
			if rest, ok := strings.CutPrefix(p, module+"internal/"); ok {
				imps[strings.SplitN(rest, "/", 2)[0]] = f
			}
		}
	}
	return imps
}

func TestPackagesHaveDocComments(t *testing.T) {
	dirs, err := filepath.Glob("../*")
	if err != nil {
		t.Fatal(err)
	}
	dirs = append(dirs, "../../cmd/drover")
	for _, dir := range dirs {
		files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
		documented, hasCode := false, false
		fset := token.NewFileSet()
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			hasCode = true
			af, err := parser.ParseFile(fset, f, nil, parser.PackageClauseOnly|parser.ParseComments)
			if err != nil {
				t.Fatal(err)
			}
			if af.Doc != nil && strings.TrimSpace(af.Doc.Text()) != "" {
				documented = true
			}
		}
		if hasCode && !documented {
			t.Errorf("%s has no package doc comment saying what it owns", dir)
		}
	}
}
