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
		// LoadCtl keeps only [supervisorctl]'s options but reads every line.
		"[program:a]\ncommand=/bin/cat\n  --flag\n\n  more\n[supervisorctl]\nserverurl=unix:///tmp/x.sock\n  ; c\nprompt=p\n  two\n[program:b]\ncommand=x\n",
		"[supervisorctl]\nprompt=a\n[program:a]\nprompt=b\nusername=v\n[supervisorctl]\nusername=u\n",
		"[program:a]\ncommand=x\n[DEFAULT]\nusername=d\n[supervisorctl]\n",
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

// LoadCtl keeps only [supervisorctl]'s options, but it fails on a file
// exactly as a whole parse does (Supervisor's supervisorctl reads the
// whole file and dies of the same parse errors).
func TestLoadCtlErrorsAreThoseOfTheWholeFile(t *testing.T) {
	for _, conf := range []string{
		"[program:a]\nnot an option line\n[supervisorctl]\n",
		"[program:a]\ncommand=x\n  cont\n= no name\n[supervisorctl]\nprompt=p\n[program:b]\nbad\n",
		"prompt=x\n[supervisorctl]\n",
	} {
		path := filepath.Join(t.TempDir(), "supervisord.conf")
		os.WriteFile(path, []byte(conf), 0o644)
		want := newINI().parse(conf, path)
		_, _, err := LoadCtl(path)
		if want == nil || err == nil || err.Error() != want.Error() {
			t.Errorf("%q: LoadCtl error %v, a whole parse's %v", conf, err, want)
		}
	}
}
