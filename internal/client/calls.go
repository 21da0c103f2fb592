package client

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/drover/drover/internal/wire"
	"github.com/drover/drover/internal/xmlrpc"
)

// ProcessInfo is one getProcessInfo struct. Times are unix seconds, 0 for
// never.
type ProcessInfo struct {
	Name, Group   string
	State         wire.ProcessState
	StateName     string
	PID           int
	Description   string
	ExitStatus    int
	Start, Stop   int
	Now           int
	SpawnErr      string
	StdoutLogfile string
	StderrLogfile string
}

// Namespec is "name" when the process is alone in its group of the same
// name, else "group:name", as supervisorctl shows it.
func (p ProcessInfo) Namespec() string { return Namespec(p.Group, p.Name) }

// Namespec is the display name of process name of group: "name" when it
// equals its group, else "group:name".
func Namespec(group, name string) string {
	if group == name {
		return name
	}
	return group + ":" + name
}

// ConfigInfo is one getAllConfigInfo struct, the fields avail shows.
type ConfigInfo struct {
	Name, Group     string
	InUse           bool
	Autostart       bool
	GroupPriority   int
	ProcessPriority int
}

// Namespec is as ProcessInfo's.
func (c ConfigInfo) Namespec() string { return Namespec(c.Group, c.Name) }

// Result is one struct of the multi-process calls (startProcessGroup,
// stopAllProcesses, signalAllProcesses, ...): Status is a fault code,
// wire.FaultSuccess when it went well.
type Result struct {
	Name, Group string
	Status      int
	Description string
}

// PoolInfo is one drover.getPools struct: a program group's worker pool.
// Times are unix seconds, 0 for never.
type PoolInfo struct {
	Group                              string
	Scaling                            bool
	Min, Max                           int
	Workers, Busy, Draining, Processes int
	Target                             int
	Queue                              string
	QueueOK                            bool
	QueueError                         string
	Ready, Due, Delayed, Reserved      int
	Expired                            int
	OldestWait                         int // seconds
	SampledAt, DecidedAt, LastResize   int
	Decision                           string
	Rolling                            string
	// With fleet_max (0 without): the cap, the fleet's leased total at
	// this node's last renewal, and this node's leased workers.
	FleetMax, FleetTotal, FleetLeased int
}

// APIVersion is getVersion: the API version, "3.0" for Supervisor 3 and 4.
func (c *Client) APIVersion(ctx context.Context) (string, error) {
	return callString(ctx, c, "supervisor.getVersion")
}

// SupervisorVersion is getSupervisorVersion, e.g. "4.2.5".
func (c *Client) SupervisorVersion(ctx context.Context) (string, error) {
	return callString(ctx, c, "supervisor.getSupervisorVersion")
}

// PID is getPID: the daemon's own process id.
func (c *Client) PID(ctx context.Context) (int, error) {
	v, err := c.Call(ctx, "supervisor.getPID")
	return asInt(v), err
}

// AllProcessInfo is getAllProcessInfo: every process, in status order.
func (c *Client) AllProcessInfo(ctx context.Context) ([]ProcessInfo, error) {
	var out []ProcessInfo
	n, err := c.callStructs(ctx, func(i int, name string, v xmlrpc.Value) {
		for len(out) <= i {
			out = append(out, ProcessInfo{})
		}
		out[i].set(name, v)
	}, "supervisor.getAllProcessInfo")
	if err != nil {
		return nil, err
	}
	for len(out) < n { // structs without members
		out = append(out, ProcessInfo{})
	}
	return out, nil
}

// ProcessInfo is getProcessInfo(namespec).
func (c *Client) ProcessInfo(ctx context.Context, name string) (ProcessInfo, error) {
	v, err := c.Call(ctx, "supervisor.getProcessInfo", name)
	if err != nil {
		return ProcessInfo{}, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return ProcessInfo{}, fmt.Errorf("getProcessInfo: a %T, not a struct", v)
	}
	return toProcessInfo(fields(m)), nil
}

// AllConfigInfo is getAllConfigInfo.
func (c *Client) AllConfigInfo(ctx context.Context) ([]ConfigInfo, error) {
	v, err := c.Call(ctx, "supervisor.getAllConfigInfo")
	if err != nil {
		return nil, err
	}
	return decodeAll(v, func(f fields) ConfigInfo {
		return ConfigInfo{Name: f.str("name"), Group: f.str("group"), InUse: f.flag("inuse"),
			Autostart: f.flag("autostart"), GroupPriority: f.num("group_prio"), ProcessPriority: f.num("process_prio")}
	})
}

// Start is startProcess(namespec, wait). "group:*" starts a whole group.
func (c *Client) Start(ctx context.Context, name string, wait bool) error {
	_, err := c.Call(ctx, "supervisor.startProcess", name, wait)
	return err
}

// Stop is stopProcess(namespec, wait).
func (c *Client) Stop(ctx context.Context, name string, wait bool) error {
	_, err := c.Call(ctx, "supervisor.stopProcess", name, wait)
	return err
}

// Results calls one of the multi-process methods (startProcessGroup,
// stopAllProcesses, signalProcessGroup, ...) and returns its results.
func (c *Client) Results(ctx context.Context, method string, args ...any) ([]Result, error) {
	v, err := c.Call(ctx, method, args...)
	if err != nil {
		return nil, err
	}
	return decodeAll(v, func(f fields) Result {
		return Result{Name: f.str("name"), Group: f.str("group"), Status: f.num("status"), Description: f.str("description")}
	})
}

// ReloadConfig is reloadConfig: the groups added, changed and removed
// since the configuration was last read.
func (c *Client) ReloadConfig(ctx context.Context) (added, changed, removed []string, err error) {
	v, err := c.Call(ctx, "supervisor.reloadConfig")
	if err != nil {
		return nil, nil, nil, err
	}
	outer, _ := v.([]any)
	if len(outer) == 0 {
		return nil, nil, nil, nil
	}
	lists, _ := outer[0].([]any)
	for len(lists) < 3 {
		lists = append(lists, nil)
	}
	return asStrings(lists[0]), asStrings(lists[1]), asStrings(lists[2]), nil
}

// ReadLog is readLog(offset, length) of the main log; a negative offset
// reads the tail.
func (c *Client) ReadLog(ctx context.Context, offset, length int) (string, error) {
	return callString(ctx, c, "supervisor.readLog", offset, length)
}

// ReadProcessLog is readProcessStdoutLog or readProcessStderrLog (channel
// "stderr") of namespec.
func (c *Client) ReadProcessLog(ctx context.Context, name, channel string, offset, length int) (string, error) {
	method := "supervisor.readProcessStdoutLog"
	if channel == "stderr" {
		method = "supervisor.readProcessStderrLog"
	}
	return callString(ctx, c, method, name, offset, length)
}

// Pools is drover.getPools: the worker pool of every program group.
func (c *Client) Pools(ctx context.Context) ([]PoolInfo, error) {
	v, err := c.Call(ctx, "drover.getPools")
	if err != nil {
		return nil, err
	}
	return decodeAll(v, func(f fields) PoolInfo {
		return PoolInfo{Group: f.str("group"), Scaling: f.flag("scaling"), Min: f.num("min"), Max: f.num("max"),
			Workers: f.num("workers"), Busy: f.num("busy"), Draining: f.num("draining"), Processes: f.num("processes"),
			Target: f.num("target"), Queue: f.str("queue"), QueueOK: f.flag("queue_ok"), QueueError: f.str("queue_error"),
			Ready: f.num("ready"), Due: f.num("due"), Delayed: f.num("delayed"), Reserved: f.num("reserved"),
			Expired: f.num("expired"), OldestWait: f.num("oldest_wait"), SampledAt: f.num("sampled_at"),
			DecidedAt: f.num("decided_at"), LastResize: f.num("last_resize"), Decision: f.str("decision"),
			Rolling: f.str("rolling"), FleetMax: f.num("fleet_max"), FleetTotal: f.num("fleet_total"),
			FleetLeased: f.num("fleet_leased")}
	})
}

// Fleet is drover.getFleet: every node of the daemon's fleet, by name.
// Without [fleet] the daemon answers FAILED: fleet not configured.
func (c *Client) Fleet(ctx context.Context) ([]wire.FleetNode, error) {
	s, err := callString(ctx, c, "drover.getFleet")
	if err != nil {
		return nil, err
	}
	var nodes []wire.FleetNode
	if err := json.Unmarshal([]byte(s), &nodes); err != nil {
		return nil, fmt.Errorf("drover.getFleet: %w", err)
	}
	return nodes, nil
}

// FleetSend is drover.fleetSend: a signed fleet command for the named
// nodes; it returns the command's id and expiry.
func (c *Client) FleetSend(ctx context.Context, action, group string, nodes []string, batch int) (wire.FleetSent, error) {
	var sent wire.FleetSent
	list := make([]any, len(nodes))
	for i, n := range nodes {
		list[i] = n
	}
	s, err := callString(ctx, c, "drover.fleetSend", action, group, list, batch)
	if err != nil {
		return sent, err
	}
	if err := json.Unmarshal([]byte(s), &sent); err != nil {
		return sent, fmt.Errorf("drover.fleetSend: %w", err)
	}
	return sent, nil
}

// FleetResults is drover.fleetResults: what each node reported so far of
// command id, by node name.
func (c *Client) FleetResults(ctx context.Context, id string) (map[string]wire.FleetResult, error) {
	s, err := callString(ctx, c, "drover.fleetResults", id)
	if err != nil {
		return nil, err
	}
	var results map[string]wire.FleetResult
	if err := json.Unmarshal([]byte(s), &results); err != nil {
		return nil, fmt.Errorf("drover.fleetResults: %w", err)
	}
	return results, nil
}

// RollingRestart is drover.rollingRestart(group, batch); ErrCannotRoll when
// the group cannot be replaced beside itself.
func (c *Client) RollingRestart(ctx context.Context, group string, batch int) error {
	_, err := c.Call(ctx, "drover.rollingRestart", group, batch)
	return err
}

// RollingUpdate is drover.rollingUpdate(group, batch), as RollingRestart.
func (c *Client) RollingUpdate(ctx context.Context, group string, batch int) error {
	_, err := c.Call(ctx, "drover.rollingUpdate", group, batch)
	return err
}

// SetPoolBounds is drover.setPoolBounds(group, min, max): the scaling
// pool group keeps between min and max workers until its configuration
// changes. ErrBadName for no such pool, ErrBadArguments for bounds outside
// 1 <= min <= max <= numprocs_max or a pool that does not scale.
func (c *Client) SetPoolBounds(ctx context.Context, group string, min, max int) error {
	_, err := c.Call(ctx, "drover.setPoolBounds", group, min, max)
	return err
}

// KeepingReload is drover.reloadKeeping's answer, by group name.
type KeepingReload struct {
	Kept, Restarted, Rolled, Removed, Added []string
	Failed                                  []string // "name: reason"
	FullReload                              string   // why it became a full reload; "" if it did not
}

// ReloadKeeping is drover.reloadKeeping: reload the config keeping the
// unchanged groups running (CANT_REREAD for an invalid config, which
// changes nothing).
func (c *Client) ReloadKeeping(ctx context.Context) (KeepingReload, error) {
	v, err := c.Call(ctx, "drover.reloadKeeping")
	if err != nil {
		return KeepingReload{}, err
	}
	f, _ := v.(map[string]any)
	return KeepingReload{Kept: asStrings(f["kept"]), Restarted: asStrings(f["restarted"]), Rolled: asStrings(f["rolled"]),
		Removed: asStrings(f["removed"]), Added: asStrings(f["added"]), Failed: asStrings(f["failed"]),
		FullReload: fields(f).str("full_reload")}, nil
}

func toProcessInfo(f fields) ProcessInfo {
	var p ProcessInfo
	for name, v := range f {
		p.set(name, xmlrpc.ValueOf(v))
	}
	return p
}

// set sets the field of getProcessInfo's member name; a value of another
// type leaves it zero, and other members are ignored. It keeps copies of
// strings: callStructs gives them only for the call.
func (p *ProcessInfo) set(name string, v xmlrpc.Value) {
	str := func() string {
		if v.Kind != xmlrpc.KindString {
			return ""
		}
		return strings.Clone(v.Str)
	}
	num := func() int {
		if v.Kind != xmlrpc.KindInt && v.Kind != xmlrpc.KindBool {
			return 0
		}
		return v.Int
	}
	switch name {
	case "name":
		p.Name = str()
	case "group":
		p.Group = str()
	case "state":
		p.State = wire.ProcessState(num())
	case "statename":
		p.StateName = str()
	case "pid":
		p.PID = num()
	case "description":
		p.Description = str()
	case "exitstatus":
		p.ExitStatus = num()
	case "start":
		p.Start = num()
	case "stop":
		p.Stop = num()
	case "now":
		p.Now = num()
	case "spawnerr":
		p.SpawnErr = str()
	case "stdout_logfile":
		p.StdoutLogfile = str()
	case "stderr_logfile":
		p.StderrLogfile = str()
	}
}

func callString(ctx context.Context, c *Client, method string, args ...any) (string, error) {
	v, err := c.Call(ctx, method, args...)
	if err != nil {
		return "", err
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%s: a %T, not a string", method, v)
	}
	return s, nil
}

// decodeAll decodes an array of structs.
func decodeAll[T any](v any, decode func(fields) T) ([]T, error) {
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("a %T, not an array", v)
	}
	out := make([]T, 0, len(list))
	for _, item := range list {
		m, ok := item.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("an array member is a %T, not a struct", item)
		}
		out = append(out, decode(fields(m)))
	}
	return out, nil
}

// fields reads the members of a decoded struct; a missing or mistyped member
// reads as the zero value, as Supervisor's structs always carry every key.
type fields map[string]any

func (f fields) str(name string) string { s, _ := f[name].(string); return s }
func (f fields) num(name string) int    { return asInt(f[name]) }
func (f fields) flag(name string) bool {
	switch b := f[name].(type) {
	case bool:
		return b
	case int:
		return b != 0
	}
	return false
}

func asInt(v any) int {
	switch n := v.(type) {
	case int:
		return n
	case bool:
		if n {
			return 1
		}
	}
	return 0
}

func asStrings(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, item := range list {
		s, _ := item.(string)
		out = append(out, s)
	}
	return out
}

// DroverVersion is drover.getVersion's answer: the daemon's build, how
// many images its process has run (1 + its upgrades), and why the last
// upgrade it accepted did not switch ("" if it did not fail).
type DroverVersion struct {
	Build         string
	Images        int
	UpgradeFailed string
}

// Upgrade is drover.upgrade: the daemon checked the binary on disk and is
// switching to it. It returns the running version and the new build.
func (c *Client) Upgrade(ctx context.Context) (from DroverVersion, to string, err error) {
	v, err := c.Call(ctx, "drover.upgrade")
	if err != nil {
		return DroverVersion{}, "", err
	}
	m, _ := v.(map[string]any)
	return DroverVersion{Build: fields(m).str("from"), Images: fields(m).num("images")}, fields(m).str("to"), nil
}

// Version is drover.getVersion.
func (c *Client) Version(ctx context.Context) (DroverVersion, error) {
	v, err := c.Call(ctx, "drover.getVersion")
	if err != nil {
		return DroverVersion{}, err
	}
	m, _ := v.(map[string]any)
	return DroverVersion{fields(m).str("build"), fields(m).num("images"), fields(m).str("upgrade_failed")}, nil
}
