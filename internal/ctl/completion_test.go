package ctl

import (
	"context"
	"net/http"
	"slices"
	"testing"

	"github.com/drover/drover/internal/client"
	"github.com/drover/drover/internal/xmlrpc"
)

func TestCompleter(t *testing.T) {
	url := fakeServer(t, func(w http.ResponseWriter) {
		info := func(group, name string) map[string]any { return map[string]any{"group": group, "name": name} }
		xmlrpc.EncodeResponse(w, []any{info("cat", "cat"), info("grp", "a"), info("grp", "b")})
	})
	c := &controller{ctx: context.Background(), cl: client.New(url, "", "")}
	k := &completer{c: c}
	for _, tc := range []struct {
		line   string
		want   []string
		length int
	}{
		{"sta", []string{"rt ", "tus "}, 3},
		{"", nil, 0}, // every command; checked by length only
		{"start ", []string{"cat ", "grp:a ", "grp:* ", "grp:b "}, 0},
		{"stop g", []string{"rp:a ", "rp:* ", "rp:b "}, 1},
		{"status cat:", []string{"cat ", "* "}, 4},
		{"update ", []string{"cat ", "grp "}, 0},
		{"help re", []string{"load ", "move ", "read ", "start "}, 2},
		{"version ", nil, 0},
	} {
		got, length := k.Do([]rune(tc.line), len(tc.line))
		var words []string
		for _, g := range got {
			words = append(words, string(g))
		}
		if tc.line == "" {
			if len(words) < 20 {
				t.Errorf("empty line completes to %q, want every command", words)
			}
			continue
		}
		if !slices.Equal(words, tc.want) || length != tc.length {
			t.Errorf("Do(%q) = %q, %d; want %q, %d", tc.line, words, length, tc.want, tc.length)
		}
	}
}
