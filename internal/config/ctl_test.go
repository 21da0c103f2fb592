package config

import (
	"bytes"
	"encoding/json"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestLoadCtlAgainstPython compares LoadCtl with supervisorctl's ClientOptions.
func TestLoadCtlAgainstPython(t *testing.T) {
	py := pythonIfAvailable()
	if py == "" {
		t.Skip("python3 with the supervisor module not available")
	}
	confs := []string{
		"[supervisorctl]\n",
		"[supervisorctl]\nserverurl=unix://%(here)s/../x/s.sock\nusername=u\npassword=p\nprompt=mine\nhistory_file=%(here)s/h\n",
		"[DEFAULT]\nprompt=dflt\n[supervisorctl]\nserverurl=http://127.0.0.1:9001 ; comment\n",
		"[supervisorctl]\nserverurl=%(ENV_HOME)s\n[include]\nfiles=*.conf\n",
		"[supervisord]\n",
		"[supervisorctl]\nusername=%(nope)s\n",
		"[supervisorctl]\nhistory_file=~/.sc_history\n",
	}
	root := t.TempDir()
	var paths []string
	for i, c := range confs {
		dir := filepath.Join(root, string(rune('a'+i)))
		os.MkdirAll(dir, 0o755)
		p := filepath.Join(dir, "supervisord.conf")
		os.WriteFile(p, []byte(c), 0o644)
		paths = append(paths, p)
	}
	req, _ := json.Marshal(paths)
	cmd := exec.Command(py, strings.TrimSuffix(dumpScript, "dump.py")+"ctl.py")
	cmd.Dir = "/"
	cmd.Stdin = bytes.NewReader(req)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ctl.py: %v", err)
	}
	var want []struct {
		Ctl   map[string]string
		Error string
	}
	if err := json.Unmarshal(out, &want); err != nil {
		t.Fatal(err)
	}
	for i, p := range paths {
		c, found, err := LoadCtl(p)
		if want[i].Error != "" {
			if err == nil || err.(*Error).SupervisorText() != want[i].Error {
				t.Errorf("%q: error %v, want %q", confs[i], err, want[i].Error)
			}
			continue
		}
		if err != nil || !found {
			t.Errorf("%q: LoadCtl: %v (found=%v)", confs[i], err, found)
			continue
		}
		got := map[string]string{"serverurl": c.ServerURL, "username": c.Username, "password": c.Password,
			"prompt": c.Prompt, "history_file": c.HistoryFile}
		if !maps.Equal(got, want[i].Ctl) {
			t.Errorf("%q:\n got: %v\nwant: %v", confs[i], got, want[i].Ctl)
		}
	}
}
