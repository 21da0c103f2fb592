package conformance

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
)

// kind is what a program's command does.
type kind int

const (
	kindForever   kind = iota // prints, then sleeps until stopped
	kindStubborn              // ignores SIGTERM, so a stop ends with SIGKILL
	kindFastExit              // prints and exits with exitCode at once
	kindSlowExit              // prints and exits with exitCode after slowExitSecs
	kindForkExit              // leaves a child holding its stdout, exits with exitCode
	kindMissing               // command is a file that does not exist
	kindNoExec                // command is a file without the execute bit
	kindDirectory             // command is a directory
	numKinds
)

// longStartsecs is the startsecs of a program that has one: long enough that
// a kindFastExit program exits well before it even on a loaded machine.
const longStartsecs = 2

// slowExitSecs is how long a kindSlowExit program runs: well past
// longStartsecs plus Supervisor's 1-second poll, so both daemons see it reach
// RUNNING before it exits.
const slowExitSecs = longStartsecs + 3

var kindTags = [numKinds]string{"forever", "stubborn", "fastexit", "slowexit", "forkexit", "missing", "noexec", "dir"}

// exitsByItself says whether a started process of this kind ends without
// being stopped.
func (k kind) exitsByItself() bool {
	return k == kindFastExit || k == kindSlowExit || k == kindForkExit
}

// spawns says whether the command can be run at all.
func (k kind) spawns() bool { return k < kindMissing }

// program is one [program:x] section.
type program struct {
	name           string
	kind           kind
	exitCode       int
	numprocs       int
	startsecs      int
	startretries   int
	autostart      bool
	autorestart    string
	exitcodes      []int
	stopsignal     string
	stopwaitsecs   int
	stopasgroup    bool
	killasgroup    bool
	redirectStderr bool
	priority       int // 0: not set
	environment    bool
	directory      bool
	umask          string
	included       bool // written to conf.d/<name>.conf through [include]
}

// group is one [group:x] section.
type group struct {
	name     string
	programs []string
	priority int // 0: not set
}

// config is the program and group sections of one version of the file.
type config struct {
	programs []program
	groups   []group
}

// step is one supervisorctl command, run after writing conf (when not nil)
// as the new config file.
type step struct {
	conf *config
	args []string
}

// testCase is one generated case: the first config, then the steps.
type testCase struct {
	seed  uint64
	conf  config
	steps []step
}

var programNames = []string{"web", "worker", "cron", "mailer", "api", "queue", "echo", "feed"}
var groupNames = []string{"front", "back"}

// loops says whether the program, once it has reached RUNNING, would be
// restarted after every exit forever (with no backoff in either daemon),
// which no settled state can be compared in.
func (p program) loops() bool {
	if !p.kind.exitsByItself() {
		return false
	}
	if p.kind != kindSlowExit && p.startsecs > 0 {
		return false // exits too quickly: BACKOFF, then FATAL
	}
	switch p.autorestart {
	case "true":
		return true
	case "unexpected":
		return !slices.Contains(p.exitcodes, p.exitCode)
	}
	return false
}

func pick[T any](r *rand.Rand, xs ...T) T { return xs[r.IntN(len(xs))] }

func genProgram(r *rand.Rand, name string) program {
	p := program{
		name:           name,
		kind:           kind(r.IntN(int(numKinds))),
		exitCode:       pick(r, 0, 0, 1, 2, 3),
		numprocs:       pick(r, 1, 1, 1, 2, 3),
		startsecs:      pick(r, 0, longStartsecs),
		startretries:   r.IntN(3),
		autostart:      r.IntN(4) != 0,
		autorestart:    pick(r, "true", "false", "unexpected"),
		exitcodes:      pick(r, []int{0}, []int{0}, []int{0, 2}, []int{3}, []int{1, 3}),
		stopsignal:     pick(r, "TERM", "TERM", "TERM", "INT", "HUP", "QUIT", "USR1", "KILL"),
		stopwaitsecs:   1 + r.IntN(2),
		stopasgroup:    r.IntN(5) == 0,
		killasgroup:    r.IntN(5) == 0,
		redirectStderr: r.IntN(3) == 0,
		environment:    r.IntN(2) == 0,
		directory:      r.IntN(3) == 0,
		umask:          pick(r, "", "", "077", "002"),
		included:       r.IntN(3) == 0,
	}
	if r.IntN(2) == 0 {
		p.priority = pick(r, 1, 10, 500, 999)
	}
	p.settleable(r)
	return p
}

// settleable changes what would make the program's outcome timing:
//   - a kindForkExit's exit closes no pipe, so Supervisor sees it only at
//     its next 1-second poll: with startsecs>0 that makes "exited too
//     quickly" a coin toss, so its startsecs is 0;
//   - a program that restarts forever never settles (see loops).
//   - a stop is given a long stopwaitsecs unless the program ignores its
//     stopsignal: a death that takes about stopwaitsecs (a core dump on
//     SIGQUIT under load) makes the SIGKILL a coin toss.
func (p *program) settleable(r *rand.Rand) {
	if p.kind == kindForkExit {
		p.startsecs = 0
	}
	if p.kind != kindStubborn || p.stopsignal != "TERM" {
		p.stopwaitsecs = 10
	}
	if p.loops() {
		if r.IntN(2) == 0 {
			p.autorestart = "false"
		} else {
			p.autorestart = "unexpected"
			p.exitcodes = append(slices.Clone(p.exitcodes), p.exitCode)
		}
	}
}

// genConfig makes 1 to 4 programs and, sometimes, a group of some of them.
func genConfig(r *rand.Rand) config {
	var c config
	names := slices.Clone(programNames)
	r.Shuffle(len(names), func(i, j int) { names[i], names[j] = names[j], names[i] })
	for _, n := range names[:1+r.IntN(4)] {
		c.programs = append(c.programs, genProgram(r, n))
	}
	if len(c.programs) > 1 && r.IntN(3) == 0 {
		g := group{name: pick(r, groupNames...)}
		for _, p := range c.programs[:1+r.IntN(len(c.programs)-1)] {
			g.programs = append(g.programs, p.name)
		}
		if r.IntN(2) == 0 {
			g.priority = pick(r, 5, 700)
		}
		c.groups = append(c.groups, g)
	}
	return c
}

func (c config) clone() config {
	n := config{programs: slices.Clone(c.programs)}
	for _, g := range c.groups {
		n.groups = append(n.groups, group{g.name, slices.Clone(g.programs), g.priority})
	}
	return n
}

func (c config) program(name string) (program, bool) {
	for _, p := range c.programs {
		if p.name == name {
			return p, true
		}
	}
	return program{}, false
}

func (c config) groupOf(prog string) string {
	for _, g := range c.groups {
		if slices.Contains(g.programs, prog) {
			return g.name
		}
	}
	return prog
}

// processNames returns the names of the program's processes.
func (p program) processNames() []string {
	if p.numprocs == 1 {
		return []string{p.name}
	}
	var out []string
	for i := range p.numprocs {
		out = append(out, fmt.Sprintf("%s_%d", p.name, i))
	}
	return out
}

// namespecs returns the namespec (group:process, or the name alone when
// they are the same) of every process, and the group:* spec of every group.
func (c config) namespecs() (procs, groups []string) {
	seen := map[string]bool{}
	for _, p := range c.programs {
		g := c.groupOf(p.name)
		for _, n := range p.processNames() {
			if g == n {
				procs = append(procs, n)
			} else {
				procs = append(procs, g+":"+n)
			}
		}
		if !seen[g] {
			seen[g] = true
			groups = append(groups, g+":*")
		}
	}
	return procs, groups
}

// processProgram maps each process name to its program.
func (c config) processProgram() map[string]program {
	m := map[string]program{}
	for _, p := range c.programs {
		for _, n := range p.processNames() {
			m[n] = p
		}
	}
	return m
}

// edit returns a changed copy of c: a program's command, numprocs or
// startsecs changes, a program is added or removed, or a group is made,
// dropped or gains or loses a program.
func edit(r *rand.Rand, c config) config {
	n := c.clone()
	var unused []string
	for _, name := range programNames {
		if _, ok := c.program(name); !ok {
			unused = append(unused, name)
		}
	}
	i := r.IntN(len(n.programs))
	switch op := r.IntN(6); {
	case op == 0 && len(unused) > 0:
		n.programs = append(n.programs, genProgram(r, pick(r, unused...)))
	case op == 1 && len(n.programs) > 1:
		n = n.without(n.programs[i].name)
	case op == 2:
		p := &n.programs[i]
		p.numprocs = 1 + (p.numprocs % 3)
	case op == 3:
		p := &n.programs[i]
		p.startsecs = longStartsecs - p.startsecs
		p.settleable(r)
	case op == 4:
		n = n.regroup(r, n.programs[i].name)
	case op == 5 && len(n.groups) > 0 && r.IntN(4) == 0:
		n.groups[0].retouch(r)
	case op == 5 && r.IntN(3) != 0:
		n.programs[i].retouch(r)
	default:
		old := n.programs[i]
		n.programs[i] = genProgram(r, old.name)
		n.programs[i].included = old.included
	}
	return n
}

// retouch changes one setting of the program that the daemons compare to
// tell whether its group changed: the environment, umask, directory,
// priority, autostart, the order of exitcodes (the same set, but
// Supervisor keeps a list) or the exit code its command is given.
func (p *program) retouch(r *rand.Rand) {
	switch r.IntN(7) {
	case 0:
		p.environment = !p.environment
	case 1:
		p.umask = pick(r, slices.DeleteFunc([]string{"", "077", "002"}, func(u string) bool { return u == p.umask })...)
	case 2:
		p.directory = !p.directory
	case 3:
		p.priority = pick(r, slices.DeleteFunc([]int{0, 1, 10, 500, 999}, func(n int) bool { return n == p.priority })...)
	case 4:
		p.autostart = !p.autostart
	case 5:
		if len(p.exitcodes) > 1 {
			p.exitcodes = slices.Clone(p.exitcodes)
			slices.Reverse(p.exitcodes)
			break
		}
		fallthrough
	default:
		p.exitCode = (p.exitCode + 1) % 4 // a command that cannot run has no argument: no change
	}
	p.settleable(r)
}

// retouch changes the group's priority or the order of its programs=
// (the group's processes keep that order).
func (g *group) retouch(r *rand.Rand) {
	if len(g.programs) > 1 && r.IntN(2) == 0 {
		g.programs = slices.Clone(g.programs)
		slices.Reverse(g.programs)
		return
	}
	g.priority = pick(r, slices.DeleteFunc([]int{0, 5, 700}, func(n int) bool { return n == g.priority })...)
}

// regroup moves the program out of its group (dropping a group left
// empty), or into a group: an existing one or a new one.
func (c config) regroup(r *rand.Rand, prog string) config {
	if c.groupOf(prog) != prog {
		n := c.without(prog)
		n.programs = slices.Clone(c.programs)
		return n
	}
	n := c.clone()
	var free []string
	for _, name := range groupNames {
		if !slices.ContainsFunc(n.groups, func(g group) bool { return g.name == name }) {
			free = append(free, name)
		}
	}
	if len(n.groups) > 0 && (len(free) == 0 || r.IntN(2) == 0) {
		g := &n.groups[r.IntN(len(n.groups))]
		g.programs = append(g.programs, prog)
	} else {
		n.groups = append(n.groups, group{name: pick(r, free...), programs: []string{prog}})
	}
	return n
}

// processGroups returns the names of the process groups: each [group:x]
// and each program in none.
func (c config) processGroups() []string {
	var out []string
	for _, p := range c.programs {
		if g := c.groupOf(p.name); !slices.Contains(out, g) {
			out = append(out, g)
		}
	}
	return out
}

// adopt returns c with the named process groups as they are in from: added,
// replaced, or gone when from has none of that name. It is what update,
// add and remove do to the running configuration.
func (c config) adopt(from config, names ...string) config {
	n := config{}
	for _, p := range c.programs {
		if !slices.Contains(names, c.groupOf(p.name)) {
			n.programs = append(n.programs, p)
		}
	}
	for _, g := range c.groups {
		if !slices.Contains(names, g.name) {
			n.groups = append(n.groups, group{g.name, slices.Clone(g.programs), g.priority})
		}
	}
	for _, p := range from.programs {
		if _, ok := n.program(p.name); !ok && slices.Contains(names, from.groupOf(p.name)) {
			n.programs = append(n.programs, p)
		}
	}
	for _, g := range from.groups {
		if slices.Contains(names, g.name) {
			n.groups = append(n.groups, group{g.name, slices.Clone(g.programs), g.priority})
		}
	}
	return n
}

// without returns c less the program (and a group left empty).
func (c config) without(name string) config {
	n := config{}
	for _, p := range c.programs {
		if p.name != name {
			n.programs = append(n.programs, p)
		}
	}
	for _, g := range c.groups {
		g.programs = slices.DeleteFunc(slices.Clone(g.programs), func(s string) bool { return s == name })
		if len(g.programs) > 0 {
			n.groups = append(n.groups, g)
		}
	}
	return n
}

// targets picks 1 or 2 names for a command: processes, group:*, all or a
// name no daemon knows.
func targets(r *rand.Rand, c config) []string {
	procs, groups := c.namespecs()
	if len(groups) == 0 { // everything removed
		return []string{pick(r, "nosuch", "all")}
	}
	one := func() string {
		switch x := r.IntN(10); {
		case x < 5 && len(procs) > 0:
			return pick(r, procs...)
		case x < 7:
			return pick(r, groups...)
		case x < 8:
			return "all"
		default:
			// A group's name alone names the process of that name in it
			// (none, unless the group is a one-process program); "g:" is
			// "g:*".
			g := strings.TrimSuffix(groups[0], "*")
			return pick(r, "nosuch", "nosuch:*", g+"nosuch", strings.TrimSuffix(g, ":"), g)
		}
	}
	out := []string{one()}
	if second := one(); r.IntN(4) == 0 && !overlap(out[0], second) {
		out = append(out, second)
	}
	return out
}

// overlap says whether two names of one command can name the same process:
// acting on a process twice in a row races with its own exit.
func overlap(a, b string) bool {
	if a == b || a == "all" || b == "all" {
		return true
	}
	ga, _, _ := strings.Cut(a, ":")
	gb, _, _ := strings.Cut(b, ":")
	return ga == gb && (wholeGroup(a) || wholeGroup(b))
}

// wholeGroup says whether a name given to a command is a whole group:
// "g:*" or "g:".
func wholeGroup(name string) bool {
	return strings.HasSuffix(name, ":*") || strings.HasSuffix(name, ":")
}

// genCase makes a case: a config and 3 to 8 commands, ending with status.
// It follows what each command does to the configuration the daemon runs
// (active) and the one it last read (read) closely enough to pick names
// that mostly exist; the harness follows them exactly (adoptChanges).
func genCase(seed uint64) testCase {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	tc := testCase{seed: seed, conf: genConfig(r)}
	active, read, file := tc.conf, tc.conf, tc.conf
	add := func(args ...string) { tc.steps = append(tc.steps, step{args: args}) }
	for range 3 + r.IntN(6) {
		switch x := r.IntN(24); {
		case x < 3:
			args := []string{"status"}
			if r.IntN(2) == 0 {
				args = append(args, targets(r, active)...)
			}
			add(args...)
		case x < 6:
			add(append([]string{"start"}, targets(r, active)...)...)
		case x < 9:
			add(append([]string{"stop"}, targets(r, active)...)...)
		case x < 11:
			add(append([]string{"restart"}, targets(r, active)...)...)
		case x < 12:
			add(append([]string{"signal", pick(r, "HUP", "USR1", "KILL", "TERM", "9", "usr2")}, targets(r, active)...)...)
		case x < 13:
			add("avail")
		case x < 14:
			args := []string{"pid"}
			if r.IntN(3) != 0 {
				args = append(args, targets(r, active)[0])
			}
			add(args...)
		case x < 15:
			add(append([]string{"clear"}, targets(r, active)...)...)
		case x < 17:
			add(tailArgs(r, active)...)
		case x < 20:
			n := edit(r, file)
			file = n
			tc.steps = append(tc.steps, step{conf: &n, args: []string{"reread"}})
			read = file
			switch r.IntN(4) {
			case 0:
				tc.steps[len(tc.steps)-1].args = []string{"update"}
				active = file
			case 1:
				add("update")
				active = file
			case 2:
				// reread alone: the change waits for a later update, add
				// or remove.
			default:
				names := updateNames(r, active, file)
				add(append([]string{"update"}, names...)...)
				active = active.adopt(file, names...)
			}
		case x < 22:
			// remove (after stopping the group, or not) or add one process
			// group of what was last read.
			if r.IntN(2) == 0 {
				g := pick(r, append(active.processGroups(), "nosuch")...)
				if r.IntN(3) != 0 {
					add("stop", g+":*")
					active = active.adopt(config{}, g)
				}
				add("remove", g)
			} else {
				g := pick(r, append(read.processGroups(), "nosuch")...)
				add("add", g)
				if !slices.Contains(active.processGroups(), g) {
					active = active.adopt(read, g)
				}
			}
		case r.IntN(3) == 0:
			// Everything stopped, the file read afresh (with what no
			// reread has read yet), everything started again.
			add("reload")
			active, read = file, file
		default:
			add(misuse(r, active)...)
		}
	}
	add("status")
	return tc
}

// tailArgs is a tail of a process's stdout or stderr, or a name no daemon
// knows; sometimes with a byte count: -5 (the umask line), -0 (the whole
// log, as Supervisor reads a length of 0) or one longer than the log. Other
// counts would cut the line that holds the case directory, whose name is
// not the same length for both daemons.
func tailArgs(r *rand.Rand, c config) []string {
	procs, _ := c.namespecs()
	args := []string{"tail"}
	if r.IntN(2) == 0 {
		args = append(args, pick(r, "-5", "-0", "-4000"))
	}
	args = append(args, pick(r, append(procs, "nosuch")...))
	switch r.IntN(6) {
	case 0, 1:
		args = append(args, "stderr")
	case 2:
		args = append(args, "stdout")
	}
	return args
}

// updateNames picks 1 or 2 process groups for `update`: running ones, ones
// only in the file, or all.
func updateNames(r *rand.Rand, active, file config) []string {
	names := slices.Clone(active.processGroups())
	for _, g := range file.processGroups() {
		if !slices.Contains(names, g) {
			names = append(names, g)
		}
	}
	r.Shuffle(len(names), func(i, j int) { names[i], names[j] = names[j], names[i] })
	if r.IntN(6) == 0 {
		return []string{"all"}
	}
	return names[:min(len(names), 1+r.IntN(2))]
}

// misuse is a command used wrongly: no name, a signal that does not exist,
// a name no daemon has, a bad tail argument.
func misuse(r *rand.Rand, c config) []string {
	procs, _ := c.namespecs()
	one := pick(r, append(procs, "nosuch")...)
	return pick(r,
		[]string{"start"}, []string{"stop"}, []string{"restart"}, []string{"clear"},
		[]string{"signal"}, []string{"signal", "HUP"}, []string{"signal", "NOSUCH", one},
		[]string{"remove"}, []string{"add"}, []string{"update", "nosuch"},
		[]string{"tail"}, []string{"tail", "-x", one}, []string{"tail", one, "stdin"},
		[]string{"pid", "nosuch"}, []string{"avail", "x"}, []string{"reread", "x"},
	)
}

// without returns the case less one program, in every version of the file.
func (tc testCase) without(name string) testCase {
	n := testCase{seed: tc.seed, conf: tc.conf.without(name)}
	for _, s := range tc.steps {
		if s.conf != nil {
			c := s.conf.without(name)
			s.conf = &c
		}
		n.steps = append(n.steps, s)
	}
	return n
}

// allPrograms returns every program of every version of the file (a name
// may come several times with different commands).
func (tc testCase) allPrograms() []program {
	out := slices.Clone(tc.conf.programs)
	for _, s := range tc.steps {
		if s.conf != nil {
			out = append(out, s.conf.programs...)
		}
	}
	return out
}

// String is the reproduction: every version of the file and the commands.
func (tc testCase) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "seed %d\n--- supervisord.conf ---\n%s", tc.seed, tc.conf.render())
	for _, s := range tc.steps {
		if s.conf != nil {
			fmt.Fprintf(&b, "--- new supervisord.conf ---\n%s", s.conf.render())
		}
		fmt.Fprintf(&b, "$ supervisorctl %s\n", strings.Join(s.args, " "))
	}
	return b.String()
}
