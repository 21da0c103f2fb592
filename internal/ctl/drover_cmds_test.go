package ctl

import (
	"bytes"
	"strings"
	"testing"
)

func TestRollingArgs(t *testing.T) {
	tests := []struct {
		arg     string
		batch   int
		rest    string
		rolling bool
		ok      bool
		out     string
	}{
		{arg: "worker", batch: 1, rest: "worker", ok: true},
		{arg: "--rolling worker", batch: 1, rest: "worker", rolling: true, ok: true},
		{arg: "worker:* --rolling --batch 3", batch: 3, rest: "worker:*", rolling: true, ok: true},
		{arg: "--rolling --batch=2 a b", batch: 2, rest: "a b", rolling: true, ok: true},
		{arg: "--rolling --batch 0 a", rolling: true, out: "Error: --batch needs a positive number\n"},
		{arg: "--rolling --batch x a", rolling: true, out: "Error: --batch needs a positive number\n"},
		{arg: "--batch 2 a", rolling: true, out: "Error: --batch only goes with --rolling\n"},
	}
	for _, tt := range tests {
		var out bytes.Buffer
		c := &controller{out: &out}
		batch, rest, rolling, ok := c.rollingArgs("restart", tt.arg)
		if rolling != tt.rolling || ok != tt.ok || ok && (batch != tt.batch || strings.Join(rest, " ") != tt.rest) ||
			out.String() != tt.out || !ok && c.exitStatus != exitGeneric {
			t.Errorf("rollingArgs(%q) = %d %q %v %v, output %q, exit %d", tt.arg, batch, rest, rolling, ok, out.String(), c.exitStatus)
		}
	}
}
