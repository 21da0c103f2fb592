package eventlistener

import (
	"slices"
	"strings"
	"testing"
)

func TestProtocol(t *testing.T) {
	const unknownWarn = "WARN l: has entered the UNKNOWN state and will no longer receive events, " +
		"this usually indicates the process violated the eventlistener protocol"
	tests := []struct {
		name   string
		start  State // the state when the chunks arrive (Busy: an event was sent)
		chunks []string
		want   State
		logs   []string // REQUEUE: the event goes back to the pool
	}{
		{"ready", Acknowledged, []string{"READY\n"}, Ready, []string{"DEBG l: ACKNOWLEDGED -> READY"}},
		{"ready in pieces", Acknowledged, []string{"RE", "AD", "Y\n"}, Ready, []string{"DEBG l: ACKNOWLEDGED -> READY"}},
		{"short output waits", Acknowledged, []string{"READY"}, Acknowledged, nil},
		{"garbage while acknowledged", Acknowledged, []string{"hello world\n"}, Unknown,
			[]string{"DEBG l: ACKNOWLEDGED -> UNKNOWN", unknownWarn}},
		{"output while ready", Ready, []string{"x"}, Unknown,
			[]string{"DEBG l: READY -> UNKNOWN", unknownWarn}},
		{"ready twice", Acknowledged, []string{"READY\nREADY\n"}, Unknown,
			[]string{"DEBG l: ACKNOWLEDGED -> READY", "DEBG l: READY -> UNKNOWN", unknownWarn}},
		{"unknown swallows everything", Unknown, []string{"READY\n"}, Unknown, nil},
		{"ok", Busy, []string{"RESULT 2\nOK"}, Acknowledged,
			[]string{"DEBG l: event was processed", "DEBG l: BUSY -> ACKNOWLEDGED"}},
		{"ok and ready in one write", Busy, []string{"RESULT 2\nOKREADY\n"}, Ready,
			[]string{"DEBG l: event was processed", "DEBG l: BUSY -> ACKNOWLEDGED", "DEBG l: ACKNOWLEDGED -> READY"}},
		{"result split everywhere", Busy, []string{"RES", "ULT 2", "\n", "O", "K"}, Acknowledged,
			[]string{"DEBG l: event was processed", "DEBG l: BUSY -> ACKNOWLEDGED"}},
		{"fail", Busy, []string{"RESULT 4\nFAIL"}, Acknowledged,
			[]string{"WARN l: event was rejected", "DEBG l: BUSY -> ACKNOWLEDGED", "REQUEUE"}},
		{"anything but OK rejects", Busy, []string{"RESULT 3\nOK\n"}, Acknowledged,
			[]string{"WARN l: event was rejected", "DEBG l: BUSY -> ACKNOWLEDGED", "REQUEUE"}},
		{"prefix is not checked", Busy, []string{"XXXXXXX2\nOK"}, Acknowledged,
			[]string{"DEBG l: event was processed", "DEBG l: BUSY -> ACKNOWLEDGED"}},
		{"empty result waits for more output", Busy, []string{"RESULT 0\n"}, Busy, nil},
		{"empty result rejects once more output comes", Busy, []string{"RESULT 0\n", "READY\n"}, Ready,
			[]string{"WARN l: event was rejected", "DEBG l: BUSY -> ACKNOWLEDGED", "REQUEUE", "DEBG l: ACKNOWLEDGED -> READY"}},
		{"bad result line", Busy, []string{"garbage\nmore"}, Unknown,
			[]string{"WARN l: bad result line: 'garbage'", "DEBG l: BUSY -> UNKNOWN", unknownWarn, "REQUEUE"}},
		{"undecodable result line", Busy, []string{"RESULT \xff\n"}, Unknown,
			[]string{`WARN l: bad result line: 'Undecodable: b'RESULT \xff''`, "DEBG l: BUSY -> UNKNOWN", unknownWarn, "REQUEUE"}},
		{"incomplete result line waits", Busy, []string{"RESULT 2"}, Busy, nil},
	}
	levels := map[int]string{10: "DEBG", 30: "WARN"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newProtocol("l")
			p.state = tt.start
			var logs []string
			for _, c := range tt.chunks {
				for _, e := range p.feed([]byte(c)) {
					if e.requeue {
						logs = append(logs, "REQUEUE")
						continue
					}
					logs = append(logs, levels[int(e.level)]+" "+e.text)
				}
			}
			if p.state != tt.want || !slices.Equal(logs, tt.logs) {
				t.Errorf("state %v, logs:\n%s\nwant state %v, logs:\n%s",
					p.state, strings.Join(logs, "\n"), tt.want, strings.Join(tt.logs, "\n"))
			}
		})
	}
}

// TestProtocolMemoryBounded: a busy listener that writes without end, with
// no newline or behind a huge RESULT length, holds at most a few KiB of it.
func TestProtocolMemoryBounded(t *testing.T) {
	chunk := []byte(strings.Repeat("x", 64<<10))
	t.Run("no newline", func(t *testing.T) {
		p := newProtocol("l")
		p.send()
		for range 160 { // 10 MiB
			p.feed(chunk)
			if len(p.buf) > maxResultLine {
				t.Fatalf("holds %d bytes waiting for a newline", len(p.buf))
			}
		}
		if p.state != Unknown {
			t.Errorf("state %v, want UNKNOWN: the line is too long to be a RESULT line", p.state)
		}
	})
	t.Run("huge result body", func(t *testing.T) {
		p := newProtocol("l")
		p.send()
		p.feed([]byte("RESULT 100000000\nOK"))
		for range 160 {
			p.feed(chunk)
			if len(p.result) > 3 || len(p.buf) > 0 {
				t.Fatalf("holds %d bytes of the result and %d unread", len(p.result), len(p.buf))
			}
		}
		if p.state != Busy {
			t.Errorf("state %v, want BUSY until the whole body came", p.state)
		}
	})
}
