package config

import (
	"errors"
	"strings"
	"testing"
)

// The INI parser never panics, and what it refuses is a located *Error.
func FuzzINI(f *testing.F) {
	f.Fuzz(func(t *testing.T, text string) {
		err := newINI().parse(text, "f.conf")
		var e *Error
		if err != nil && (!errors.As(err, &e) || e.File != "f.conf") {
			t.Fatalf("parse error %v (%T) is not an *Error of f.conf", err, err)
		}
	})
}

// Expansion never panics; a value without '%' comes back as it is.
func FuzzExpand(f *testing.F) {
	m := vars{"here": "/etc/x", "program_name": "p", "process_num": 3, "ENV_HOME": "/root"}
	f.Fuzz(func(t *testing.T, s string) {
		out, err := expand(s, m, "program:p.command")
		if !strings.Contains(s, "%") && (err != nil || out != s) {
			t.Fatalf("expand(%q) = %q, %v; want it unchanged", s, out, err)
		}
	})
}

// The environment= tokenizer never panics, and what it accepts has keys.
func FuzzEnvironment(f *testing.F) {
	f.Fuzz(func(t *testing.T, raw string) {
		vars, err := parseEnvironment(raw)
		if err != nil {
			return
		}
		for _, v := range vars {
			if v.Key == "" {
				t.Fatalf("parseEnvironment(%q) gave an empty key: %q", raw, vars)
			}
		}
	})
}
