package upgrade_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// listenerPy is an event listener: it logs each event as "serial
// poolserial eventname payload pid" and, while the file hold exists, stays
// BUSY with it, its RESULT line written and its body not (busy says so).
const listenerPy = `import os, sys, time
log, hold = sys.argv[1], sys.argv[2]
out, inp = sys.stdout.buffer, sys.stdin.buffer
def say(b):
    out.write(b)
    out.flush()
while True:
    say(b"READY\n")
    header = inp.readline().decode()
    h = dict(tok.split(":", 1) for tok in header.split())
    payload = inp.read(int(h["len"])).decode()
    with open(log, "a") as f:
        f.write("%s %s %s %s %d\n" % (h["serial"], h["poolserial"], h["eventname"], payload, os.getpid()))
    if os.path.exists(hold):
        say(b"RESULT 2\n")
        open(hold + ".busy", "w").close()
        while os.path.exists(hold):
            time.sleep(0.02)
        say(b"OK")
    else:
        say(b"RESULT 2\nOK")
`

// An event listener is handed over like a program: same pid, and its
// protocol goes on. Here it is BUSY across the switch with half its answer
// written (the RESULT line before, the body after), with events buffered
// behind it: the new image takes the answer, sends the buffered events,
// then new ones. Every event the listener got, TICK_5 included, is numbered
// on with no serial repeated or skipped, every state change of the program
// flap is there once, and its stdout log is the protocol with no byte lost.
func TestEventListenerHandedOver(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 is needed")
	}
	good := build(t, "good", "-X github.com/drover/drover/internal/version.Build=before")
	extra := `[eventlistener:lsn]
command=sh -c 'while [ ! -e {dir}/listener.py ]; do sleep 0.05; done; exec python3 {dir}/listener.py {dir}/events.log {dir}/hold'
events=PROCESS_STATE,TICK_5
buffer_size=100
startsecs=0
stdout_logfile={dir}/lsn.log
[program:flap]
command=sleep 1000
autostart=false
startsecs=0
`
	r := newRig(t, good, extra, 1)
	if err := os.WriteFile(filepath.Join(r.dir, "listener.py"), []byte(listenerPy), 0o644); err != nil {
		t.Fatal(err)
	}
	before := r.running()
	events := filepath.Join(r.dir, "events.log")
	flapStates := func() int { return strings.Count(readFile(t, events), "processname:flap groupname:flap") }
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(20 * time.Second); !ok(); time.Sleep(50 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s; events:\n%s", what, readFile(t, events))
			}
		}
	}
	flap := func(cmd string) {
		t.Helper()
		if out, code := r.ctl(cmd, "flap"); code != 0 {
			t.Fatalf("%s flap: exit %d: %s", cmd, code, out)
		}
	}
	// Before: a start and a stop, four events.
	flap("start")
	flap("stop")
	waitFor("flap's first 4 states", func() bool { return flapStates() == 4 })

	// BUSY across the switch with flap's STARTING (or a TICK_5 come
	// first), its RESULT line written; the events after it wait in the pool.
	hold := filepath.Join(r.dir, "hold")
	if err := os.WriteFile(hold, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	flap("start")
	waitFor("the listener busy", func() bool { _, err := os.Stat(hold + ".busy"); return err == nil })
	flap("stop")
	if out, code := r.ctl("upgrade"); code != 0 || !strings.Contains(out, "upgraded: drover before is running") {
		t.Fatalf("upgrade: exit %d:\n%s", code, out)
	}
	switched := len(lines(readFile(t, events)))
	os.Remove(hold)
	waitFor("the events buffered across the switch", func() bool { return flapStates() == 8 })
	// After: new events, and a TICK_5 published by the new image.
	flap("start")
	flap("stop")
	waitFor("flap's last 4 states", func() bool { return flapStates() == 12 })
	waitFor("a TICK_5 after the switch", func() bool {
		return strings.Contains(strings.Join(lines(readFile(t, events))[switched:], "\n"), "TICK_5")
	})

	after := r.running()
	for name, pid := range before {
		if after[name] != pid {
			t.Errorf("%s: pid %d after the upgrade, was %d", name, after[name], pid)
		}
	}
	got := lines(readFile(t, events))
	var flapSeq []string
	lastTick := int64(0)
	for i, l := range got {
		f := strings.Fields(l)
		if len(f) < 4 {
			t.Fatalf("event line %q", l)
		}
		if f[0] != strconv.Itoa(i) || f[1] != strconv.Itoa(i) {
			t.Errorf("event %d has serial %s, pool serial %s: want %d, one pool numbers every event: %q", i, f[0], f[1], i, l)
		}
		if f[len(f)-1] != strconv.Itoa(before["lsn"]) {
			t.Errorf("event %d received by pid %s, want the listener's %d", i, f[len(f)-1], before["lsn"])
		}
		if strings.Contains(l, "processname:flap ") {
			flapSeq = append(flapSeq, strings.TrimPrefix(f[2], "PROCESS_STATE_"))
		}
		if f[2] == "TICK_5" {
			when, _ := strconv.ParseInt(strings.TrimPrefix(f[3], "when:"), 10, 64)
			if lastTick != 0 && when != lastTick+5 {
				t.Errorf("TICK_5 when:%d follows when:%d: a tick lost or repeated", when, lastTick)
			}
			lastTick = when
		}
	}
	if want := strings.Repeat("STARTING RUNNING STOPPING STOPPED ", 3); strings.Join(flapSeq, " ")+" " != want {
		t.Errorf("flap's states as the listener got them: %v, want %s", flapSeq, want)
	}
	if log, want := readFile(t, filepath.Join(r.dir, "lsn.log")), "READY\n"+strings.Repeat("RESULT 2\nOKREADY\n", len(got)); log != want {
		t.Errorf("the listener's stdout log:\n%q\nwant the protocol of %d events:\n%q", log, len(got), want)
	}
	main := readFile(t, r.mainLog)
	for _, bad := range []string{"UNKNOWN state", "event was rejected", "overflowed", "event(s) lost"} {
		if strings.Contains(main, bad) {
			t.Errorf("main log says %q", bad)
		}
	}
	if out, _ := r.ctl("status", "lsn"); !strings.Contains(out, fmt.Sprintf("RUNNING   pid %d,", before["lsn"])) {
		t.Errorf("status lsn: %s", out)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return string(b)
}

func lines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}
