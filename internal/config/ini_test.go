package config

import (
	"strconv"
	"strings"
	"testing"
)

// dumpINI renders parsed sections as "section.key=value@line" lines.
func dumpINI(f *iniFile) string {
	var b strings.Builder
	for _, s := range append([]*iniSection{f.Defaults}, sectionsOf(f)...) {
		for _, k := range s.Order {
			v := s.Keys[k]
			b.WriteString(s.Name + "." + k + "=" + v.Value + "@" + strconv.Itoa(v.Pos.Line) + "\n")
		}
	}
	return b.String()
}

func TestINI(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"delimiters", "[s]\na=1\nB : 2\nc:d=e\n", "s.a=1@2\ns.b=2@3\ns.c=d=e@4\n"},
		{"comments", "[s]\n; full\n# full\n  ;indented\na=x;y ; c\nb=x#y # c\nc=x\t;tab\n", "s.a=x;y@5\ns.b=x#y@6\ns.c=x@7\n"},
		{"comment rounds", "[s]\na=x;y ;c #d\n", "s.a=x;y ;c@2\n"},
		{"quotes do not protect", "[s]\nc=bash -c 'foo ; bar'\n", "s.c=bash -c 'foo@2\n"},
		{"continuation", "[s]\nenv=A=1,\n  B=2\n\n  C=3\nnext=x\n", "s.env=A=1,\nB=2\n\nC=3@2\ns.next=x@6\n"},
		{"comment line inside value", "[s]\nenv=A\n; c\n  B\n", "s.env=A\nB@2\n"},
		{"merge duplicates", "[s]\na=1\nb=2\n[t]\nx=1\n[s]\na=3\n", "s.a=3@7\ns.b=2@3\nt.x=1@5\n"},
		{"default", "[DEFAULT]\nd=1\n[s]\n", "DEFAULT.d=1@2\n"},
		{"section case", "[S]\na=1\n[s]\na=2\n", "S.a=1@2\ns.a=2@4\n"},
		{"header with bracket", "[a]b]\nk=v\n", "a]b.k=v@2\n"},
		{"crlf", "[s]\r\na=1\r\n", "s.a=1@2\n"},
		{"empty value", "[s]\na=\n", "s.a=@2\n"},
	} {
		f := newINI()
		if err := f.parse(tc.in, "x.conf"); err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if got := dumpINI(f); got != tc.want {
			t.Errorf("%s:\n got: %q\nwant: %q", tc.name, got, tc.want)
		}
	}
}

func TestINIErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"foo=1\n[supervisord]\n", "File contains no section headers.\nfile: 'x.conf', line: 1\n'foo=1\\n'"},
		{"[supervisord]\nfoo\n=bar\n", "Source contains parsing errors: 'x.conf'\n\t[line  2]: 'foo\\n'\n\t[line  3]: '=bar\\n'"},
		{"[]\n", "File contains no section headers.\nfile: 'x.conf', line: 1\n'[]\\n'"},
	} {
		err := newINI().parse(tc.in, "x.conf")
		if err == nil || err.(*Error).Msg != tc.want {
			t.Errorf("parse(%q) error = %v, want %q", tc.in, err, tc.want)
		}
	}
	f := newINI()
	f.parse("[s]\na=1\n", "x.conf")
	if v, ok := f.get("s", "a"); !ok || v.Value != "1" {
		t.Error("get after parse failed")
	}
}
