package ctl

import (
	"slices"
	"strings"

	"github.com/drover/drover/internal/client"
)

// completer is the shell's Tab completion, as Supervisor's: command names
// first, then group names (add, remove, update) or process names (clear,
// fg, pid, restart, signal, start, status, stop, tail). Process information
// is fetched once per command line.
type completer struct {
	c     *controller
	infos []client.ProcessInfo // nil until first needed after each command
}

var (
	groupCommands   = []string{"add", "remove", "update"}
	processCommands = []string{"clear", "fg", "pid", "restart", "signal", "start", "status", "stop", "tail"}
)

// Do implements readline.AutoCompleter: it returns the missing suffixes of
// the candidates for the word before pos, and that word's length.
func (k *completer) Do(line []rune, pos int) ([][]rune, int) {
	before := string(line[:pos])
	words := strings.Fields(before)
	text := ""
	if len(words) > 0 && !strings.HasSuffix(before, " ") {
		text = words[len(words)-1]
	}
	var candidates []string
	switch {
	case len(words) == 0 || len(words) == 1 && text != "" || words[0] == "help":
		candidates = sortedKeys(helpTopicsSet())
	case slices.Contains(groupCommands, words[0]):
		candidates = groupNames(k.processInfos())
	case slices.Contains(processCommands, words[0]):
		for _, info := range k.processInfos() {
			group, name := info.Group, info.Name
			if strings.Contains(text, ":") || group != name {
				candidates = append(candidates, group+":"+name)
				if !slices.Contains(candidates, group+":*") {
					candidates = append(candidates, group+":*")
				}
			} else {
				candidates = append(candidates, name)
			}
		}
	}
	var out [][]rune
	for _, cand := range candidates {
		if rest, ok := strings.CutPrefix(cand, text); ok {
			out = append(out, []rune(rest+" "))
		}
	}
	return out, len([]rune(text))
}

func (k *completer) processInfos() []client.ProcessInfo {
	if k.infos == nil {
		infos, err := k.c.cl.AllProcessInfo(k.c.ctx)
		if err != nil {
			return nil
		}
		k.infos = infos
	}
	return k.infos
}

// forget drops cached process information (after each command).
func (k *completer) forget() { k.infos = nil }
