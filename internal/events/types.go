package events

// parents maps every event type name, concrete or abstract, to its parent:
// Supervisor's class hierarchy, which listeners subscribe by.
var parents = map[string]string{
	"PROCESS_STATE":                    "EVENT",
	"PROCESS_STATE_STOPPED":            "PROCESS_STATE",
	"PROCESS_STATE_EXITED":             "PROCESS_STATE",
	"PROCESS_STATE_STARTING":           "PROCESS_STATE",
	"PROCESS_STATE_STOPPING":           "PROCESS_STATE",
	"PROCESS_STATE_BACKOFF":            "PROCESS_STATE",
	"PROCESS_STATE_FATAL":              "PROCESS_STATE",
	"PROCESS_STATE_RUNNING":            "PROCESS_STATE",
	"PROCESS_STATE_UNKNOWN":            "PROCESS_STATE",
	"PROCESS_COMMUNICATION":            "EVENT",
	"PROCESS_COMMUNICATION_STDOUT":     "PROCESS_COMMUNICATION",
	"PROCESS_COMMUNICATION_STDERR":     "PROCESS_COMMUNICATION",
	"PROCESS_LOG":                      "EVENT",
	"PROCESS_LOG_STDOUT":               "PROCESS_LOG",
	"PROCESS_LOG_STDERR":               "PROCESS_LOG",
	"REMOTE_COMMUNICATION":             "EVENT",
	"SUPERVISOR_STATE_CHANGE":          "EVENT",
	"SUPERVISOR_STATE_CHANGE_RUNNING":  "SUPERVISOR_STATE_CHANGE",
	"SUPERVISOR_STATE_CHANGE_STOPPING": "SUPERVISOR_STATE_CHANGE",
	"TICK":                             "EVENT",
	"TICK_5":                           "TICK",
	"TICK_60":                          "TICK",
	"TICK_3600":                        "TICK",
	"PROCESS_GROUP":                    "EVENT",
	"PROCESS_GROUP_ADDED":              "PROCESS_GROUP",
	"PROCESS_GROUP_REMOVED":            "PROCESS_GROUP",
}

// IsA reports whether an event called name is of type typ: the same type or
// one of its subtypes, so "PROCESS_STATE" covers every "PROCESS_STATE_*" and
// "EVENT" covers everything. Unknown names are of no type.
func IsA(name, typ string) bool {
	if _, known := parents[name]; !known {
		return false
	}
	for n := name; n != ""; n = parents[n] {
		if n == typ {
			return true
		}
	}
	return false
}
