package config

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// parseTxtar splits a txtar archive into its files.
func parseTxtar(data string) map[string]string {
	files := map[string]string{}
	name := ""
	for _, line := range strings.SplitAfter(data, "\n") {
		if strings.HasPrefix(line, "-- ") && strings.HasSuffix(strings.TrimRight(line, "\n"), " --") {
			name = strings.TrimSuffix(strings.TrimPrefix(strings.TrimRight(line, "\n"), "-- "), " --")
			files[name] = ""
			continue
		}
		if name != "" {
			files[name] += line
		}
	}
	return files
}

// TestGolden loads every testdata/*.txtar: the archive's files are written
// to a temporary directory (%DIR% in them is replaced by its path), then
//   - "-- error --" is the expected Error.Msg ("-- error-prefix --" its start), or
//   - "-- want --" lines "Group/Process: field=value" or "supervisord: field=value"
//     hold expected values (see wantValue);
//
// and when Python's supervisor is installed every parse is compared with it.
func TestGolden(t *testing.T) {
	paths, _ := filepath.Glob("testdata/*.txtar")
	if len(paths) == 0 {
		t.Fatal("no golden files")
	}
	root := t.TempDir()
	var dirs []string
	for _, p := range paths {
		name := strings.TrimSuffix(filepath.Base(p), ".txtar")
		dir := filepath.Join(root, name)
		dirs = append(dirs, dir)
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			files := parseTxtar(string(data))
			for name, content := range files {
				if name == "want" || name == "error" || name == "error-prefix" {
					continue
				}
				full := filepath.Join(dir, name)
				if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(full, []byte(strings.ReplaceAll(content, "%DIR%", dir)), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			t.Chdir(dir)
			cfg, err := Load(filepath.Join(dir, "supervisord.conf"), Overrides{})
			if prefix, ok := files["error-prefix"]; ok {
				prefix = strings.TrimRight(prefix, "\n")
				if err == nil || !strings.HasPrefix(err.(*Error).Msg, prefix) {
					t.Fatalf("error\n got: %v\nwant prefix: %s", err, prefix)
				}
			} else if want, ok := files["error"]; ok {
				want = strings.TrimRight(strings.ReplaceAll(want, "%DIR%", dir), "\n")
				if err == nil {
					t.Fatalf("loaded fine, want error %q", want)
				}
				if got := err.(*Error).Msg; got != want {
					t.Fatalf("error\n got: %s\nwant: %s", got, want)
				}
			} else if err != nil {
				t.Fatalf("Load: %v", err)
			}
			for _, line := range strings.Split(strings.TrimSpace(files["want"]), "\n") {
				if line == "" {
					continue
				}
				where, kv, _ := strings.Cut(line, ": ")
				field, want, _ := strings.Cut(kv, "=")
				want = strings.ReplaceAll(want, "%DIR%", dir)
				if got := wantValue(t, cfg, where, field); got != want {
					t.Errorf("%s %s = %q, want %q", where, field, got, want)
				}
			}
		})
	}
	if py := pythonIfAvailable(); py != "" {
		comparePython(t, py, dirs...)
	}
}

// wantValue formats a field of the config: where is "config", "supervisord",
// "<group>" or "<group>/<process>"; field is a Go field path like "Stdout.Path".
func wantValue(t *testing.T, cfg *Config, where, field string) string {
	t.Helper()
	if cfg == nil {
		t.Fatalf("no config for %s", where)
	}
	var v reflect.Value
	group, proc, hasProc := strings.Cut(where, "/")
	switch where {
	case "config":
		v = reflect.ValueOf(cfg).Elem()
	case "supervisord":
		v = reflect.ValueOf(cfg.Supervisord)
	case "supervisorctl":
		v = reflect.ValueOf(cfg.Supervisorctl)
	default:
		for _, g := range cfg.Groups {
			if g.Name != group {
				continue
			}
			v = reflect.ValueOf(g).Elem()
			if hasProc {
				v = reflect.Value{}
				for _, p := range g.Processes {
					if p.Name == proc {
						v = reflect.ValueOf(p).Elem()
					}
				}
			}
		}
	}
	if !v.IsValid() {
		t.Fatalf("no %s in config", where)
	}
	for _, f := range strings.Split(field, ".") {
		if v.Kind() == reflect.Map {
			v = v.MapIndex(reflect.ValueOf(f))
		} else {
			v = v.FieldByName(f)
		}
		if !v.IsValid() {
			t.Fatalf("no field %s in %s", field, where)
		}
	}
	return fmt.Sprint(v.Interface())
}
