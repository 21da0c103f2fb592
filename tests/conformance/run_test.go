package conformance

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/drover/drover/internal/client"
)

const (
	supervisorctl = "/usr/bin/supervisorctl"
	// quiet is how long the process table must stay the same before a
	// state counts as settled: more than Supervisor's 1-second poll, so a
	// pending transition (EXITED -> STARTING by autorestart) has happened.
	quiet = 1500 * time.Millisecond
	// settleTimeout bounds a wait for a settled state (the longest
	// legitimate one is a backoff series of 1+2 s plus starts, or a
	// stubborn group stopped one after another).
	settleTimeout = 45 * time.Second
)

// daemonSpec says how to start one of the two daemons; "-n -c <conf>"
// follows argv.
type daemonSpec struct {
	name string
	argv []string
}

// entry is one command's outcome, normalised, and what the harness saw
// after it (a state that did not settle, a daemon that did not exit).
type entry struct {
	cmd   string
	out   string
	code  int
	notes string
}

// transcript is what one daemon showed for a case.
type transcript struct {
	entries []entry
	// states holds the state lines of the main log by stream: one stream
	// per process, "spawnerr <program>", and "shutdown" for the first
	// "waiting for ... to die".
	states map[string][]string
	// shared names the process streams that two processes fed at once
	// (see adoptChanges): their interleaving is timing.
	shared map[string]bool
}

// instance is one daemon running one case in its own directory.
type instance struct {
	spec   daemonSpec
	dir    string
	conf   string
	daemon *exec.Cmd
	exited chan struct{}
	rpc    *client.Client
	trans  transcript
}

// run runs the case against the daemon and returns what it showed; an
// error means the harness itself could not run it.
func run(spec daemonSpec, tc testCase) (transcript, error) {
	dir, err := os.MkdirTemp("", "cf-")
	if err != nil {
		return transcript{}, err
	}
	defer os.RemoveAll(dir)
	in := &instance{spec: spec, dir: dir, conf: filepath.Join(dir, "supervisord.conf")}
	in.trans.shared = map[string]bool{}
	in.rpc = client.New("unix://"+filepath.Join(dir, "s.sock"), "", "")
	defer in.rpc.Close()
	if err := prepare(dir, tc); err != nil {
		return transcript{}, err
	}
	if err := in.start(); err != nil {
		return transcript{}, err
	}
	defer in.kill()
	active, read, file := tc.conf, tc.conf, tc.conf
	in.trans.entries = append(in.trans.entries, entry{cmd: "(start-up)"})
	in.settle("start-up", active)
	// How much of the main log each start-up (the first, then each
	// reload's) had written once settled.
	startups := []int64{in.logSize()}
	for _, s := range tc.steps {
		if s.conf != nil {
			file = *s.conf
			if err := writeConfig(dir, file); err != nil {
				return transcript{}, err
			}
		}
		starts := in.starts()
		out := in.ctl(s.args...)
		switch {
		case s.args[0] == "reread" || s.args[0] == "update":
			read = file
		case s.args[0] == "reload" && strings.Contains(out, "Restarted supervisord"):
			read, active = file, file
			in.awaitRestart(starts)
		}
		active = adoptChanges(active, read, out, in.trans.shared)
		if changesState(s.args[0]) {
			in.settle(strings.Join(s.args, " "), active)
		}
		if s.args[0] == "reload" {
			startups = append(startups, in.logSize())
		}
	}
	in.ctl("shutdown")
	select {
	case <-in.exited:
	case <-time.After(settleTimeout):
		in.note("the daemon did not exit")
	}
	in.trans.states, err = stateLines(filepath.Join(dir, "main.log"), dir, startups)
	return in.trans, err
}

// groupChange is a line of update, add or remove saying what it did to a
// process group.
var groupChange = regexp.MustCompile(`(?m)^(\S+): (added|updated|removed) process group$`)

// adoptChanges returns the configuration the daemon runs after a command
// whose output is out: each process group it says it added or updated as
// last read, each it removed gone. A program moved to another group whose
// new group alone was updated or added runs twice, in both groups; the
// main log names processes without their group, so it adds the names of
// those processes to shared (and active keeps the first).
func adoptChanges(active, read config, out string, shared map[string]bool) config {
	for _, m := range groupChange.FindAllStringSubmatch(out, -1) {
		from := read
		if m[2] == "removed" {
			from = config{}
		}
		for _, p := range from.programs {
			if from.groupOf(p.name) != m[1] {
				continue
			}
			if q, ok := active.program(p.name); ok && active.groupOf(q.name) != m[1] {
				for _, n := range append(p.processNames(), q.processNames()...) {
					shared[n] = true
				}
			}
		}
		active = active.adopt(from, m[1])
	}
	return active
}

func changesState(cmd string) bool {
	switch cmd {
	case "start", "stop", "restart", "signal", "update", "add", "remove", "reload":
		return true
	}
	return false
}

func (in *instance) start() error {
	out, err := os.Create(filepath.Join(in.dir, "daemon.out"))
	if err != nil {
		return err
	}
	defer out.Close()
	argv := append(slices.Clone(in.spec.argv), "-n", "-c", in.conf)
	in.daemon = exec.Command(argv[0], argv[1:]...)
	in.daemon.Dir = in.dir
	in.daemon.Stdout, in.daemon.Stderr = out, out
	// A harness stopped midway (Ctrl-C, a timeout) takes both daemons
	// down with it; SIGTERM, so each stops its own children first.
	in.daemon.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := in.daemon.Start(); err != nil {
		return err
	}
	in.exited = make(chan struct{})
	go func() { in.daemon.Wait(); close(in.exited) }()
	end := time.Now().Add(90 * time.Second)
	for {
		if _, err := in.call("supervisor.getState"); err == nil {
			return nil
		}
		select {
		case <-in.exited:
			data, _ := os.ReadFile(filepath.Join(in.dir, "daemon.out"))
			return fmt.Errorf("%s exited at start-up: %s", in.spec.name, data)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(end) {
			return fmt.Errorf("%s does not answer on its socket", in.spec.name)
		}
	}
}

// startedLine is the main log's line of every start of the daemon, the
// first and each reload's.
const startedLine = "INFO supervisord started with pid "

// logSize is how much the daemon has written to its main log.
func (in *instance) logSize() int64 {
	fi, err := os.Stat(filepath.Join(in.dir, "main.log"))
	if err != nil {
		return 0
	}
	return fi.Size()
}

// starts counts the daemon's starts so far in its main log.
func (in *instance) starts() int {
	data, _ := os.ReadFile(filepath.Join(in.dir, "main.log"))
	return strings.Count(string(data), startedLine)
}

// awaitRestart waits until the daemon has started again after a reload
// (its main log has more than `before` starts): until then it may still
// show the processes the reload has not stopped yet.
func (in *instance) awaitRestart(before int) {
	for end := time.Now().Add(settleTimeout); in.starts() <= before; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(end) {
			in.note("the daemon did not start again")
			return
		}
	}
}

// kill ends a daemon that is still there (after a harness error or a
// shutdown that hung), and its process group.
func (in *instance) kill() {
	select {
	case <-in.exited:
		return
	default:
	}
	in.daemon.Process.Signal(syscall.SIGTERM)
	select {
	case <-in.exited:
	case <-time.After(20 * time.Second):
		syscall.Kill(-in.daemon.Process.Pid, syscall.SIGKILL)
		<-in.exited
	}
}

func (in *instance) call(method string, params ...any) (any, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return in.rpc.Call(ctx, method, params...)
}

// ctlArgv is the client both daemons are driven with: Debian's
// supervisorctl, or Drover's when CONFORMANCE_CTL=drover.
func ctlArgv() []string {
	if os.Getenv("CONFORMANCE_CTL") == "drover" {
		return []string{droverBin, "ctl"}
	}
	return []string{supervisorctl}
}

// ctl runs the client with the case's config, records the normalised
// output and exit status, and returns the output.
func (in *instance) ctl(args ...string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	argv := append(ctlArgv(), "-c", in.conf)
	cmd := exec.CommandContext(ctx, argv[0], append(argv[1:], args...)...)
	out, err := cmd.CombinedOutput()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		out = append(out, []byte("harness: "+err.Error())...)
		code = -1
	}
	text := normalise(string(out), in.dir)
	if sortsLines(args) {
		lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
		slices.Sort(lines)
		text = strings.Join(lines, "\n") + "\n"
	}
	in.trans.entries = append(in.trans.entries, entry{cmd: strings.Join(args, " "), out: text, code: code})
	in.trace("ctl %s: exit %d", strings.Join(args, " "), code)
	return string(out)
}

// trace prints progress when CONFORMANCE_TRACE is set.
func (in *instance) trace(format string, args ...any) {
	if os.Getenv("CONFORMANCE_TRACE") != "" {
		fmt.Fprintf(os.Stderr, "%s %s %s: %s\n", time.Now().Format("15:04:05.000"), filepath.Base(in.dir), in.spec.name, fmt.Sprintf(format, args...))
	}
}

// note records something the harness saw after the last command.
func (in *instance) note(text string) {
	in.trans.entries[len(in.trans.entries)-1].notes += "harness: " + text + "\n"
}

// sortsLines says whether the command's result lines come in completion
// order, which is timing: start/stop/restart/signal/clear of all or a
// whole group.
func sortsLines(args []string) bool {
	if !slices.Contains([]string{"start", "stop", "restart", "signal", "clear"}, args[0]) {
		return false
	}
	for _, a := range args[1:] {
		if a == "all" || wholeGroup(a) {
			return true
		}
	}
	return false
}

// settle waits until every process is in a state it stays in: not
// STARTING, BACKOFF or STOPPING; RUNNING only for a command that does not
// exit by itself; EXITED only when autorestart will not start it again;
// and nothing changed for `quiet`. A daemon that does not settle is noted.
func (in *instance) settle(after string, active config) {
	progs := active.processProgram()
	end := time.Now().Add(settleTimeout)
	var last string
	since := time.Now()
	for {
		infos, err := in.call("supervisor.getAllProcessInfo")
		list, _ := infos.([]any)
		if err != nil && time.Now().After(end) {
			in.note("getAllProcessInfo: " + err.Error())
			return
		} else if err != nil {
			// A daemon just restarted by reload may not answer yet.
			time.Sleep(100 * time.Millisecond)
			continue
		}
		var sum []string
		stable := true
		for _, x := range list {
			m, _ := x.(map[string]any)
			name, _ := m["name"].(string)
			state, _ := m["statename"].(string)
			sum = append(sum, fmt.Sprintf("%s %s %v", name, state, m["pid"]))
			p, known := progs[name]
			switch state {
			case "STARTING", "BACKOFF", "STOPPING":
				stable = false
			case "RUNNING":
				stable = stable && !(known && p.kind.exitsByItself())
			case "EXITED":
				es, _ := m["exitstatus"].(int)
				restarts := p.autorestart == "true" || p.autorestart == "unexpected" && !slices.Contains(p.exitcodes, es)
				stable = stable && !(known && restarts)
			}
		}
		now := strings.Join(sum, "; ")
		if now != last {
			last, since = now, time.Now()
		}
		if stable && time.Since(since) >= quiet {
			in.trace("settled after %s: %s", after, now)
			return
		}
		if time.Now().After(end) {
			in.note("did not settle: " + normalise(now, in.dir))
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

var (
	logLine   = regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (\w+) (.*)$`)
	procLines = []*regexp.Regexp{
		regexp.MustCompile(`^spawned: '([^']+)' with pid`),
		regexp.MustCompile(`^success: (\S+) entered RUNNING`),
		regexp.MustCompile(`^exited: (\S+) \(`),
		regexp.MustCompile(`^gave up: (\S+) entered FATAL`),
		regexp.MustCompile(`^stopped: (\S+) \(`),
		regexp.MustCompile(`^killing '([^']+)' \(\d+\) with`),
	}
	spawnErr      = regexp.MustCompile(`^spawnerr: .*/bin/([^./']+)\.`)
	waitingForDie = regexp.MustCompile(`^waiting for .* to die$`)
)

// stateLines reads the main log and returns its state lines by stream,
// normalised: per process (their interleaving across processes is timing),
// spawn errors per program (they do not name the process), the first
// "waiting for ... to die" of the shutdown (the later ones are a 3-second
// throttled report), and "start-up order": which process each start-up
// (from its "supervisord started" line to the offset in `startups`, the
// first start-up's, then each reload's) spawned first, second...
// Supervisor spawns every autostart process in one turn of its loop, so
// that order is not timing.
func stateLines(path, dir string, startups []int64) (map[string][]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string][]string{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var read int64
	spawnedFirst := map[string]bool{}
	startup := -1 // which start-up's lines these are
	for sc.Scan() {
		read += int64(len(sc.Bytes())) + 1
		m := logLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		level, msg := m[1], m[2]
		line := level + " " + normalise(msg, dir)
		if strings.HasPrefix(msg, "supervisord started with pid ") {
			startup++
			clear(spawnedFirst)
		}
		order := "start-up order"
		if startup > 0 {
			order = fmt.Sprintf("start-up order after reload %d", startup)
		}
		for i, re := range procLines {
			if pm := re.FindStringSubmatch(msg); pm != nil {
				out[pm[1]] = append(out[pm[1]], line)
				if i == 0 && startup >= 0 && startup < len(startups) && read <= startups[startup] && !spawnedFirst[pm[1]] {
					spawnedFirst[pm[1]] = true
					out[order] = append(out[order], pm[1])
				}
			}
		}
		if pm := spawnErr.FindStringSubmatch(msg); pm != nil {
			out["spawnerr "+pm[1]] = append(out["spawnerr "+pm[1]], line)
		} else if strings.HasPrefix(msg, "spawnerr: ") {
			out["spawnerr"] = append(out["spawnerr"], line)
		}
		if waitingForDie.MatchString(msg) && out["shutdown"] == nil {
			out["shutdown"] = []string{line}
		}
	}
	for k, lines := range out {
		dropRacySuccess(lines)
		out[k] = slices.DeleteFunc(lines, func(l string) bool { return l == "" })
	}
	return out, sc.Err()
}

// dropRacySuccess blanks each "success:" line of startsecs=0 that an
// "exited:" line follows: Supervisor logs it only when its poll ran between
// the spawn and the exit, otherwise it goes from STARTING through RUNNING
// to EXITED without the line.
func dropRacySuccess(lines []string) {
	for i := range len(lines) - 1 {
		if strings.Contains(lines[i], " success: ") && strings.HasSuffix(lines[i], "> than 0 seconds (startsecs)") &&
			strings.Contains(lines[i+1], " exited: ") {
			lines[i] = ""
		}
	}
}

var normalisers = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`pid \d+`), "pid N"},
	{regexp.MustCompile(`uptime \d+:\d\d:\d\d`), "uptime U"},
	{regexp.MustCompile(`[A-Z][a-z]{2} \d\d \d\d:\d\d [AP]M`), "DATE"},
	{regexp.MustCompile(`\(\d+\) with SIG`), "(N) with SIG"},
	{regexp.MustCompile(`---supervisor-[A-Za-z0-9_]+\.log`), "---supervisor-X.log"},
	{regexp.MustCompile(`(?m)^[1-9]\d*$`), "N"},
}

// normalise replaces what differs between two runs of the same case: the
// case directory, pids, uptimes, dates and AUTO log names.
func normalise(s, dir string) string {
	s = strings.ReplaceAll(s, dir, "$DIR")
	for _, n := range normalisers {
		s = n.re.ReplaceAllString(s, n.with)
	}
	return s
}
