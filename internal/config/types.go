package config

import (
	"syscall"
	"time"
)

// Config is one fully parsed, expanded and validated configuration.
// It is immutable once Load returns: reloads build a new Config.
type Config struct {
	// File is the absolute path of the main configuration file.
	File string
	// Included lists the absolute paths of files read through [include], in order.
	Included []string

	Supervisord   Supervisord
	Supervisorctl Supervisorctl
	// HasSupervisorctl reports whether a [supervisorctl] section was present.
	HasSupervisorctl bool

	// UnixHTTPServers and InetHTTPServers hold every [unix_http_server] /
	// [inet_http_server] section (a ":suffix" makes more than one), in file order.
	UnixHTTPServers []UnixHTTPServer
	InetHTTPServers []InetHTTPServer

	// RPCInterfaces names the [rpcinterface:x] sections (their factories are ignored).
	RPCInterfaces []string

	// Fleet is the [fleet] section, nil when absent.
	Fleet *Fleet

	// Groups holds every process group (from [program:x], [group:x],
	// [eventlistener:x] and [fcgi-program:x]) sorted by (Priority, Name).
	Groups []*Group

	// Messages are the notes collected while parsing, to be written to the
	// main log once it is open (e.g. `Included extra file "..." during parsing`).
	Messages []Message
}

// Message is a parse-time note for the main log.
type Message struct {
	Level string // "CRIT", "WARN", "INFO" (Supervisor's 4-letter codes)
	Text  string
}

// Supervisord is the [supervisord] section merged with command-line overrides.
type Supervisord struct {
	Logfile         string // absolute path (default $CWD/supervisord.log) or "syslog"
	LogfileMaxBytes int64
	LogfileBackups  int
	LogLevel        LogLevel
	Pidfile         string
	Umask           int // octal value, default 022
	Nodaemon        bool
	Silent          bool
	Minfds          int
	Minprocs        int
	Nocleanup       bool
	ChildLogDir     string
	User            string // "" when unset
	UID             int    // uid of User, -1 when unset
	GID             int    // primary gid of User, -1 when unset
	Directory       string // "" when unset
	StripANSI       bool
	Environment     []EnvVar
	Identifier      string
	// Subreaper is Drover's subreaper=true: reap the orphans of the
	// programs' descendants when not PID 1 (docs/containers.md).
	Subreaper bool
	// ExitWhenAllDone is Drover's exit_when_all_done=true: the daemon
	// exits once no process is running or will be restarted.
	ExitWhenAllDone bool
	// ReloadKeepsUnchanged is Drover's reload_keeps_unchanged=true: a
	// reload (SIGHUP, supervisor.restart) keeps the programs whose config
	// did not change running (docs/upgrade.md).
	ReloadKeepsUnchanged bool
}

// Supervisorctl is the [supervisorctl] section.
type Supervisorctl struct {
	ServerURL   string // default "http://localhost:9001"
	Username    string
	Password    string
	Prompt      string // default "supervisor"
	HistoryFile string
}

// UnixHTTPServer is a [unix_http_server] section.
type UnixHTTPServer struct {
	Section  string // "unix_http_server" or "unix_http_server:foo"
	File     string // absolute socket path
	Chmod    uint32 // default 0700
	ChownUID int    // -1 when unset
	ChownGID int    // -1 when unset
	Username string
	Password string // may be "{SHA}<hex>"
}

// InetHTTPServer is an [inet_http_server] section.
type InetHTTPServer struct {
	Section  string
	Host     string // "" means all interfaces
	Port     int
	Username string
	Password string
}

// GroupKind says which kind of section produced a group.
type GroupKind int

const (
	KindProgram GroupKind = iota
	KindEventListener
	KindFCGI
)

// Group is a process group: the processes of one [program:x] (homogeneous),
// the programs listed by a [group:x] (heterogeneous), an [eventlistener:x]
// pool or an [fcgi-program:x].
type Group struct {
	Name     string
	Kind     GroupKind
	Priority int
	// Processes sorted by (Priority, Name); a [group:x] sorted stably by
	// Priority from programs= order (see loader.groups), which Member keeps.
	Processes []*Process

	// Event listener pools only.
	Events        []string // upper-cased event type names, deduplicated, in written order
	BufferSize    int
	ResultHandler string

	// FastCGI programs only.
	Socket        string // "tcp://host:port" or "unix:///path" (normalized)
	SocketBacklog int    // 0 when unset (listen with SOMAXCONN)
	SocketOwner   string // as written; "" when unset
	// SocketUID/SocketGID own a unix socket: socket_owner if set, else the
	// process user when it differs from supervisord's uid; -1 = leave as is.
	SocketUID  int
	SocketGID  int
	SocketMode uint32 // unix sockets only; default 0700

	// Drover pools (homogeneous [program:x] groups only; see scaling.go).
	// Scaling is set when the program has numprocs_max.
	Scaling *Scaling
	// Spares are further processes of the program, expanded like Processes
	// for the process_num values that follow them, in process_num order:
	// the slots autoscaling grows into, then the surge workers of rolling
	// restarts. Empty when process_name has no %(process_num).
	Spares []*Process
	// RestartWatch is the rolling_restart_watch key, nil when unset.
	RestartWatch *QueueSource
}

// Equal reports whether two group configs are the same for reread's diff
// (Supervisor compares every option; AUTO log paths compare equal).
func (g *Group) Equal(o *Group) bool { return groupEqual(g, o) }

// AutoRestart is the autorestart option.
type AutoRestart uint8

const (
	RestartUnexpected AutoRestart = iota // default
	RestartNever
	RestartAlways
)

// LogLevel is a Supervisor log level; larger is more severe.
type LogLevel int

const (
	LevelBlather  LogLevel = 3
	LevelTrace    LogLevel = 5
	LevelDebug    LogLevel = 10
	LevelInfo     LogLevel = 20
	LevelWarn     LogLevel = 30
	LevelError    LogLevel = 40
	LevelCritical LogLevel = 50
)

// EnvVar is one KEY=value pair; order is preserved as written.
type EnvVar struct {
	Key, Value string
}

// LogKind says where a child's output channel goes.
type LogKind uint8

const (
	LogAuto LogKind = iota // file in childlogdir, named by Supervisor's rule
	LogNone                // discarded (NONE/OFF)
	LogFile                // Path
)

// ChildLog is the configuration of one output channel (stdout or stderr).
type ChildLog struct {
	Kind            LogKind
	EventsEnabled   bool
	Syslog          bool
	JSONLines       bool   // see LinePrefix
	Path            string // for LogFile: as written, ~ expanded (may be relative, like Supervisor); for LogAuto filled in by the daemon
	MaxBytes        int64  // 0 = never rotate
	Backups         int
	CaptureMaxBytes int64
	// LinePrefix (Drover's *_log_prefix, expanded) is written before each
	// line; JSONLines (*_log_format=json) writes each line as a JSON object.
	// Either makes the log line-framed (docs/containers.md).
	LinePrefix string
}

// Process is the configuration of one process (one of numprocs) with every
// %(...)s expansion already applied.
type Process struct {
	Name        string // process_name after expansion
	Group       string // group name
	ProgramName string // the section's name after ':'
	ProcessNum  int
	// Member is the place of the process in its [group:x] as Supervisor
	// keeps the group (programs= order, each program's processes by
	// priority and name), before Processes is sorted by priority; 0 in any
	// other group, whose Processes are already in that order.
	Member int

	Command   string   // as written (expanded), for display and config info
	Argv      []string // POSIX-shlex split of Command; nil when ArgvErr != ""
	ArgvErr   string   // e.g. "can't parse command 'x': No closing quotation"; reported at spawn
	Directory string
	Umask     int // -1 when unset
	Priority  int
	// The flags and AutoRestart share one word (every program has a
	// Process, so its size counts: docs/benchmark.md).
	Autostart      bool
	AutoRestart    AutoRestart
	StopAsGroup    bool
	KillAsGroup    bool
	RedirectStderr bool
	// Essential is Drover's essential=true: when the process ends for good
	// the daemon stops everything and exits (docs/containers.md).
	Essential    bool
	StartSecs    time.Duration
	StartRetries int
	ExitCodes    []int
	StopSignal   syscall.Signal
	StopWait     time.Duration

	User string // as written; "" when unset
	UID  int    // -1 when User unset
	GID  int    // primary gid of User, -1 when unset
	// Groups are the supplementary group ids of User (primary first).
	Groups []int

	Stdout ChildLog
	Stderr ChildLog
	// Environment is [supervisord] environment followed by the program's,
	// later entries winning.
	Environment []EnvVar
	ServerURL   string // "AUTO" or a URL

	// Extra holds keys Supervisor does not know (Drover extensions such as
	// numprocs_min, memory_limit), lower-cased, expanded like per-section
	// options. Features read their own keys from here.
	Extra map[string]string
	// ExtraLines maps the keys of Extra to the line they were written on,
	// so a feature's validation error can name file and line.
	ExtraLines map[string]Pos
	// Worker holds Drover's memory limit and start-gate options (see
	// workers.go); nil when the process sets none.
	Worker *Worker
}

// Pos is a place in a config file.
type Pos struct {
	File string
	Line int
}
