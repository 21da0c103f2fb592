package config

import (
	"maps"
	"slices"
)

// groupEqual implements Supervisor's config equality used by reread: name,
// priority and the ordered process configs; listener pools add buffer size,
// events and result handler; FastCGI groups add the socket URL.
func groupEqual(a, b *Group) bool {
	if a == nil || b == nil {
		return a == b
	}
	if a.Name != b.Name || a.Kind != b.Kind || a.Priority != b.Priority ||
		len(a.Processes) != len(b.Processes) {
		return false
	}
	for i := range a.Processes {
		if !processEqual(a.Processes[i], b.Processes[i]) {
			return false
		}
	}
	switch a.Kind {
	case KindEventListener:
		// Supervisor keeps events in a set; order as written does not matter.
		ea, eb := slices.Clone(a.Events), slices.Clone(b.Events)
		slices.Sort(ea)
		slices.Sort(eb)
		return a.BufferSize == b.BufferSize && a.ResultHandler == b.ResultHandler && slices.Equal(ea, eb)
	case KindFCGI:
		return a.Socket == b.Socket
	}
	return true
}

// processEqual compares every option Supervisor's ProcessConfig compares.
// Extension keys (Extra) are compared too: a changed Drover option must
// make reread report the group as changed.
func processEqual(a, b *Process) bool {
	return a.Name == b.Name && a.Command == b.Command && a.Directory == b.Directory &&
		a.Umask == b.Umask && a.Priority == b.Priority && a.Autostart == b.Autostart &&
		a.AutoRestart == b.AutoRestart && a.StartSecs == b.StartSecs &&
		a.StartRetries == b.StartRetries && slices.Equal(a.ExitCodes, b.ExitCodes) &&
		a.StopSignal == b.StopSignal && a.StopWait == b.StopWait &&
		a.StopAsGroup == b.StopAsGroup && a.KillAsGroup == b.KillAsGroup &&
		a.UID == b.UID && a.RedirectStderr == b.RedirectStderr &&
		childLogEqual(a.Stdout, b.Stdout) && childLogEqual(a.Stderr, b.Stderr) &&
		envEqual(a.Environment, b.Environment) && a.ServerURL == b.ServerURL &&
		maps.Equal(a.Extra, b.Extra)
}

// childLogEqual treats AUTO as equal to anything, as Supervisor does.
func childLogEqual(a, b ChildLog) bool {
	pathEqual := a.Kind == LogAuto || b.Kind == LogAuto || (a.Kind == b.Kind && a.Path == b.Path)
	return pathEqual && a.MaxBytes == b.MaxBytes && a.Backups == b.Backups &&
		a.CaptureMaxBytes == b.CaptureMaxBytes && a.EventsEnabled == b.EventsEnabled &&
		a.Syslog == b.Syslog
}

// envEqual compares environments as Supervisor's dicts: order does not matter.
func envEqual(a, b []EnvVar) bool {
	return maps.Equal(envMap(a), envMap(b))
}

func envMap(env []EnvVar) map[string]string {
	m := make(map[string]string, len(env))
	for _, e := range env {
		m[e.Key] = e.Value
	}
	return m
}
