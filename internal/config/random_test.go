package config

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// randomInputs builds deterministic strings from pieces that exercise the
// tokenizers' special characters.
func randomInputs(seed uint64, n int, pieces []string) []string {
	r := rand.New(rand.NewPCG(seed, 1))
	out := make([]string, n)
	for i := range out {
		var b strings.Builder
		for range 1 + r.IntN(8) {
			b.WriteString(pieces[r.IntN(len(pieces))])
		}
		out[i] = b.String()
	}
	return out
}

// oracle runs testdata/oracle.py (Python's own implementations) on inputs.
func oracle(t *testing.T, kind string, inputs []string) []json.RawMessage {
	t.Helper()
	py := pythonIfAvailable()
	if py == "" {
		t.Skip("python3 with the supervisor module not available")
	}
	req, _ := json.Marshal(map[string]any{"kind": kind, "inputs": inputs})
	cmd := exec.Command(py, strings.TrimSuffix(dumpScript, "dump.py")+"oracle.py")
	cmd.Dir = "/"
	cmd.Stdin = bytes.NewReader(req)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("oracle.py: %v", err)
	}
	var res []json.RawMessage
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatal(err)
	}
	return res
}

func compareOracle(t *testing.T, kind string, inputs []string, goResult func(string) any) {
	t.Helper()
	for i, want := range oracle(t, kind, inputs) {
		if strings.Contains(string(want), "{'here'") {
			continue // a bare %s formats the mapping; Go maps have no insertion order
		}
		got, _ := json.Marshal(goResult(inputs[i]))
		var w, g any
		json.Unmarshal(want, &w)
		json.Unmarshal(got, &g)
		if string(mustJSON(w)) != string(mustJSON(g)) {
			t.Errorf("%s(%q)\n got: %s\nwant: %s", kind, inputs[i], got, want)
		}
	}
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

func TestEnvironmentAgainstPython(t *testing.T) {
	pieces := []string{"A", "b", "=", ",", " ", "\"", "'", "x y", "/", ":", ".", "#", "\n", "\\", "?", "@", ";", "é", "1", "()", "-+"}
	inputs := append(randomInputs(1, 400, pieces), randomInputs(2, 400, []string{"K=v", ",", "K2='a b'", " ", "=", "\"", "X=1"})...)
	compareOracle(t, "env", inputs, func(s string) any {
		env, err := parseEnvironment(s)
		if err != nil {
			return "ERR: " + err.Error()
		}
		pairs := [][]string{}
		for _, e := range env {
			pairs = append(pairs, []string{e.Key, e.Value})
		}
		slices.SortFunc(pairs, func(a, b []string) int { return strings.Compare(a[0], b[0]) })
		return pairs
	})
}

func TestShlexAgainstPython(t *testing.T) {
	pieces := []string{"a", " ", "'", "\"", "\\", "b c", "\t", "#", "\\\"", "$x", "é", "\n"}
	compareOracle(t, "split", randomInputs(3, 500, pieces), func(s string) any {
		argv, err := shlexSplit(s)
		if err != nil {
			return "ERR: " + err.Error()
		}
		if argv == nil {
			argv = []string{}
		}
		return argv
	})
}

func TestFormatAgainstPython(t *testing.T) {
	pieces := []string{"%", "(here)", "(process_num)", "(name)", "(nope)", "s", "d", "02", "-5", ".1", "x", "%%", "r", "z", " ", "(", ")"}
	m := vars{"here": "/h", "process_num": 3, "name": "n"}
	compareOracle(t, "fmt", randomInputs(4, 500, pieces), func(s string) any {
		out, err := pyFormat(s, m)
		if err != nil {
			if k, ok := err.(missingKey); ok {
				return "ERR: " + k.Error()
			}
			return "ERR: " + err.Error()
		}
		return out
	})
}

func TestINIAgainstPython(t *testing.T) {
	pieces := []string{"[s]\n", "[t]\n", "[DEFAULT]\n", "a=1\n", "B : 2\n", "  cont\n", "\n", "; c\n", "x = y ; z\n",
		"k=v#w\n", "a=x;y ;c #d\n", "b=1 #x ;y\n", "c=a#b;c #d ;e\n", "a=\n", "  \n", "\tq=r\n", "a=3\n"}
	var inputs []string
	for _, s := range randomInputs(5, 400, pieces) {
		inputs = append(inputs, "[s]\n"+s)
	}
	compareOracle(t, "ini", inputs, func(s string) any {
		f := newINI()
		if err := f.parse(s, "x.conf"); err != nil {
			return "ERR: " + err.(*Error).Msg
		}
		out := [][]string{}
		for _, k := range f.Defaults.Order {
			out = append(out, []string{k, f.Defaults.Keys[k].Value})
		}
		for _, sec := range sectionsOf(f) {
			for _, k := range sec.Order {
				out = append(out, []string{sec.Name + "." + k, sec.Keys[k].Value})
			}
		}
		return out
	})
}
