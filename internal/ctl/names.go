package ctl

import (
	"slices"
	"strings"

	"github.com/drover/drover/internal/client"
)

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

// hasAll reports whether "all" is among names.
func hasAll(names []string) bool {
	for _, n := range names {
		if n == "all" {
			return true
		}
	}
	return false
}

// groupNames lists the groups of infos once each, in their order.
func groupNames(infos []client.ProcessInfo) []string {
	var groups []string
	for _, info := range infos {
		if !slices.Contains(groups, info.Group) {
			groups = append(groups, info.Group)
		}
	}
	return groups
}
