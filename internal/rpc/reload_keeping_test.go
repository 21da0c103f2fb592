package rpc

import (
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/queue"
	"github.com/drover/drover/internal/wire"
	"github.com/drover/drover/internal/xmlrpc"
)

// keepingConf is the daemon's config before the reload: a pool w with a
// spare process number (so a change rolls), single, and gone. %[1]s is
// the helper's directory, unused: the reread file must have the same
// [supervisord] section, or the reload becomes a full one.
const keepingConf = `# %[1]s
[supervisord]
logfile=/dev/null

[program:w]
command=/bin/sleep 1000
process_name=w_%%(process_num)d
numprocs=2
numprocs_max=3
scale_queue=redis-list://127.0.0.1:1/0?key=jobs
startsecs=0
stdout_logfile=NONE

[program:single]
command=/bin/sleep 1000
startsecs=0
stdout_logfile=NONE

[program:gone]
command=/bin/sleep 1000
startsecs=0
stdout_logfile=NONE
`

// TestReloadKeeping drives drover.reloadKeeping on a real Supervisor with
// real children: the unchanged group keeps its pid, the changed pool rolls
// to new pids, the removed group stops, the added one starts; a broken
// file is CANT_REREAD and changes nothing.
func TestReloadKeeping(t *testing.T) {
	next := filepath.Join(t.TempDir(), "next.conf")
	rpc := serveSupervisor(t, keepingConf, serveOptions{
		Load: func() (*config.Config, error) { return config.Load(next, config.Overrides{}) },
		// Two busy workers keep the pool at 2.
		Queues: func(config.QueueSource) queue.Source { return fixedQueue{queue.Sample{Reserved: 2}} }})
	before := processPIDs(rpc)

	if err := os.WriteFile(next, []byte("[program:single]\nstartsecs=nope\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := rpc("drover.reloadKeeping"); !isFault(err, wire.FaultCantReread) {
		t.Errorf("broken config: reloadKeeping = %v, want CANT_REREAD", err)
	}
	if after := processPIDs(rpc); !maps.Equal(after, before) {
		t.Errorf("broken config: pids %v, were %v", after, before)
	}

	// w's command changes, gone goes, new comes.
	changed := strings.NewReplacer("# %[1]s\n", "", "%%", "%", "sleep 1000\nprocess_name", "sleep 1001\nprocess_name",
		"[program:gone]", "[program:new]").Replace(keepingConf)
	if err := os.WriteFile(next, []byte(changed), 0o644); err != nil {
		t.Fatal(err)
	}
	v, err := rpc("drover.reloadKeeping")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"kept": []any{"single"}, "restarted": []any{}, "rolled": []any{"w"},
		"removed": []any{"gone"}, "added": []any{"new"}, "failed": []any{}, "full_reload": ""}
	if !reflect.DeepEqual(v, want) {
		t.Errorf("reloadKeeping = %v, want %v", v, want)
	}
	after := processPIDs(rpc)
	if after["single"] != before["single"] || after["w_0"] == before["w_0"] || after["w_1"] == before["w_1"] {
		t.Errorf("pids %v, were %v", after, before)
	}
	if _, ok := after["gone"]; ok {
		t.Errorf("gone still there: %v", after)
	}
	if _, ok := after["new"]; !ok {
		t.Errorf("new not added: %v", after)
	}
}

// processPIDs maps each process name to its pid (0 when not running).
func processPIDs(rpc func(string, ...any) (any, error)) map[string]int {
	out := map[string]int{}
	v, _ := rpc("supervisor.getAllProcessInfo")
	infos, _ := v.([]any)
	for _, info := range infos {
		m := info.(map[string]any)
		out[m["name"].(string)] = m["pid"].(int)
	}
	return out
}

func isFault(err error, code int) bool {
	f, ok := err.(*xmlrpc.Fault)
	return ok && f.Code == code
}
