package eventlistener

import (
	"bytes"
	"fmt"
	"slices"
	"testing"

	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/events"
	"github.com/drover/drover/internal/process"
)

// recorder is a process.Logger keeping the lines.
type recorder struct{ lines []string }

func (r *recorder) Logf(level config.LogLevel, format string, args ...any) {
	r.lines = append(r.lines, fmt.Sprintf(format, args...))
}

func drain(sub *events.Subscription) []string {
	var got []string
	for _, e := range sub.Next() {
		p, _ := Payload(e)
		got = append(got, e.Name()+" "+p)
	}
	return got
}

func TestOutput(t *testing.T) {
	const (
		begin = "<!--XSUPERVISOR:BEGIN-->"
		end   = "<!--XSUPERVISOR:END-->"
		long  = "a line longer than the tokens\n"
	)
	tests := []struct {
		name       string
		capture    int64
		logEvents  bool
		strip      bool
		chunks     []string
		wantLog    string
		wantEvents []string
	}{
		{"log events", 0, true, false, []string{"hello\n", "world"}, "hello\nworld", []string{
			"PROCESS_LOG_STDOUT processname:w groupname:g pid:12 channel:stdout\nhello\n",
			"PROCESS_LOG_STDOUT processname:w groupname:g pid:12 channel:stdout\nworld",
		}},
		{"capture", 100, false, false, []string{"before\n" + begin + "hi there" + end + long}, "before\n" + long, []string{
			"PROCESS_COMMUNICATION_STDOUT processname:w groupname:g pid:12\nhi there",
		}},
		{"short tail is held back", 100, false, false, []string{long, "tail\n"}, long, nil},
		{"tokens split across chunks", 100, false, false,
			append(splitEvery("xx"+begin+"data"+end, 5), long), "xx" + long, []string{
				"PROCESS_COMMUNICATION_STDOUT processname:w groupname:g pid:12\ndata",
			}},
		{"capture bound drops the oldest bytes", 5, false, false,
			[]string{begin + "abcdefghijklmnopqrstuvwxyz0123", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", end + long}, long, []string{
				"PROCESS_COMMUNICATION_STDOUT processname:w groupname:g pid:12\n0123ABCDEFGHIJKLMNOPQRSTUVWXYZ",
			}},
		{"captured output is also a log event", 100, true, false, []string{begin + "secret" + end + long}, long, []string{
			"PROCESS_LOG_STDOUT processname:w groupname:g pid:12 channel:stdout\nsecret",
			"PROCESS_COMMUNICATION_STDOUT processname:w groupname:g pid:12\nsecret",
			"PROCESS_LOG_STDOUT processname:w groupname:g pid:12 channel:stdout\n" + long,
		}},
		{"events carry stripped output", 0, true, true, []string{"\x1b[31mred\x1b[0m\n"}, "\x1b[31mred\x1b[0m\n", []string{
			"PROCESS_LOG_STDOUT processname:w groupname:g pid:12 channel:stdout\nred\n",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bus := &events.Bus{}
			sub := bus.Subscribe()
			defer sub.Close()
			var sink bytes.Buffer
			pc := &config.Process{Name: "w", Group: "g"}
			pc.Stdout.CaptureMaxBytes, pc.Stdout.EventsEnabled = tt.capture, tt.logEvents
			w := NewOutput(bus, nil, config.LevelInfo, pc, "stdout", &sink, tt.strip).(process.SpawnWriter)
			cw := w.ForSpawn()
			// Output before Spawned waits for the pid.
			cw.Write([]byte(tt.chunks[0]))
			if sink.Len() != 0 {
				t.Fatalf("logged %q before the pid was known", sink.String())
			}
			cw.Spawned(12)
			for _, c := range tt.chunks[1:] {
				cw.Write([]byte(c))
			}
			if sink.String() != tt.wantLog {
				t.Errorf("log %q, want %q", sink.String(), tt.wantLog)
			}
			if got := drain(sub); !slices.Equal(got, tt.wantEvents) {
				t.Errorf("events\n%q\nwant\n%q", got, tt.wantEvents)
			}
		})
	}
}

func TestNewOutputPassesThrough(t *testing.T) {
	var sink bytes.Buffer
	pc := &config.Process{Name: "w", Group: "g"}
	pc.Stdout.CaptureMaxBytes = 10
	if w := NewOutput(nil, nil, config.LevelInfo, pc, "stderr", &sink, false); w != &sink {
		t.Errorf("stderr without capture or events got %T, want the sink", w)
	}
	if _, ok := NewOutput(nil, nil, config.LevelInfo, pc, "stdout", &sink, false).(*Output); !ok {
		t.Errorf("stdout with capture is not an *Output")
	}
}

func TestStripEscapes(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"\x1b[1;31mbold red\x1b[0m.", "bold red."},
		{"x\x1b[1;3", "x"},
		{"a\x1b[2Jb\x1b[Hc", "abc"},
	}
	for _, tt := range tests {
		if got := string(stripEscapes([]byte(tt.in))); got != tt.want {
			t.Errorf("stripEscapes(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func splitEvery(s string, n int) []string {
	var out []string
	for len(s) > n {
		out = append(out, s[:n])
		s = s[n:]
	}
	return append(out, s)
}

func TestOutputEchoesToMainLogAtDebug(t *testing.T) {
	pc := &config.Process{Name: "echo", Group: "echo"}
	for _, tt := range []struct {
		level config.LogLevel
		want  []string
	}{
		{config.LevelInfo, nil},
		{config.LevelDebug, []string{"'echo' stderr output:\nhello\n", "'echo' stderr output:\nUndecodable: b'\\x88\\n'", "'echo' stderr output:\nred\n"}},
		{config.LevelTrace, []string{"'echo' stderr output:\nhello\n", "'echo' stderr output:\nUndecodable: b'\\x88\\n'", "'echo' stderr output:\nred\n"}},
	} {
		var sink bytes.Buffer
		log := &syncLog{}
		w := NewOutput(&events.Bus{}, log, tt.level, pc, "stderr", &sink, true)
		sw, ok := w.(process.SpawnWriter)
		if !ok {
			if tt.want != nil {
				t.Fatalf("level %v: got %T, want an *Output", tt.level, w)
			}
			continue
		}
		cw := sw.ForSpawn()
		cw.Spawned(7)
		for _, chunk := range []string{"hello\n", "\x88\n", "\x1b[31mred\x1b[0m\n"} {
			cw.Write([]byte(chunk))
		}
		if got := log.take(config.LevelDebug); !slices.Equal(got, tt.want) {
			t.Errorf("level %v: main log\n%q\nwant\n%q", tt.level, got, tt.want)
		}
		// The child log gets the bytes as written (it strips escapes itself).
		if want := "hello\n\x88\n\x1b[31mred\x1b[0m\n"; sink.String() != want {
			t.Errorf("level %v: child log %q, want %q", tt.level, sink.String(), want)
		}
	}
}
