package config

import "testing"

func TestGroupEqual(t *testing.T) {
	load := func(conf string) map[string]*Group {
		t.Helper()
		path := writeConf(t, map[string]string{"supervisord.conf": "[supervisord]\n" + conf})
		cfg, err := Load(path, Overrides{})
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]*Group{}
		for _, g := range cfg.Groups {
			m[g.Name] = g
		}
		return m
	}
	base := "[program:a]\ncommand=/bin/cat\n"
	for _, tc := range []struct {
		name, a, b string
		equal      bool
	}{
		{"same", base, base, true},
		{"comment and order", base + "priority=5\nautostart=true\n", "[program:a]\nautostart=true ; x\npriority=5\ncommand=/bin/cat\n", true},
		{"auto vs file", base, base + "stdout_logfile=/tmp/a.log\n", true},
		{"file vs none", base + "stdout_logfile=/tmp/a.log\n", base + "stdout_logfile=NONE\n", false},
		{"command", base, "[program:a]\ncommand=/bin/cat -\n", false},
		{"priority", base, base + "priority=1\n", false},
		{"env", base, base + "environment=A=1\n", false},
		{"env order", base + "environment=A=1,B=2\n", base + "environment=B=2,A=1\n", true},
		{"global env", base, "environment=A=1\n" + base, false},
		{"extra key", base, base + "drover_x=1\n", false},
		{"numprocs", base, base + "numprocs=2\nprocess_name=%(process_num)s\n", false},
		{"listener events order", "[eventlistener:a]\ncommand=/bin/cat\nevents=TICK_5,TICK_60\n",
			"[eventlistener:a]\ncommand=/bin/cat\nevents=TICK_60,TICK_5\n", true},
		{"listener buffer", "[eventlistener:a]\ncommand=/bin/cat\nevents=TICK_5\n",
			"[eventlistener:a]\ncommand=/bin/cat\nevents=TICK_5\nbuffer_size=3\n", false},
		{"fcgi socket", "[fcgi-program:a]\ncommand=/bin/cat\nsocket=tcp://h:1\n",
			"[fcgi-program:a]\ncommand=/bin/cat\nsocket=tcp://h:2\n", false},
	} {
		a, b := load(tc.a)["a"], load(tc.b)["a"]
		if got := a.Equal(b); got != tc.equal {
			t.Errorf("%s: Equal = %v, want %v", tc.name, got, tc.equal)
		}
		if !a.Equal(a) {
			t.Errorf("%s: group not equal to itself", tc.name)
		}
	}
	var nilGroup *Group
	if nilGroup.Equal(&Group{}) {
		t.Error("nil equal to non-nil")
	}
}
