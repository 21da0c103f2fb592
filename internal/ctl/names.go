package ctl

import "strings"

// splitNamespec splits "group:proc", "group:*"/"group:" (process "" = whole
// group) and "name" (group and process both "name").
func splitNamespec(ns string) (group, process string, whole bool) {
	group, process, found := strings.Cut(ns, ":")
	if !found {
		return ns, ns, false
	}
	if process == "" || process == "*" {
		return group, "", true
	}
	return group, process, false
}

// makeNamespec is the display name: "proc" when it equals its group.
func makeNamespec(group, process string) string {
	if group == process {
		return process
	}
	return group + ":" + process
}

// hasAll reports whether "all" is among names.
func hasAll(names []string) bool {
	for _, n := range names {
		if n == "all" {
			return true
		}
	}
	return false
}
