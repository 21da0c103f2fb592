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
		ans    answer
		logs   []string
	}{
		{"ready", Acknowledged, []string{"READY\n"}, Ready, noAnswer, []string{"DEBG l: ACKNOWLEDGED -> READY"}},
		{"ready in pieces", Acknowledged, []string{"RE", "AD", "Y\n"}, Ready, noAnswer, []string{"DEBG l: ACKNOWLEDGED -> READY"}},
		{"short output waits", Acknowledged, []string{"READY"}, Acknowledged, noAnswer, nil},
		{"garbage while acknowledged", Acknowledged, []string{"hello world\n"}, Unknown, noAnswer,
			[]string{"DEBG l: ACKNOWLEDGED -> UNKNOWN", unknownWarn}},
		{"output while ready", Ready, []string{"x"}, Unknown, noAnswer,
			[]string{"DEBG l: READY -> UNKNOWN", unknownWarn}},
		{"ready twice", Acknowledged, []string{"READY\nREADY\n"}, Unknown, noAnswer,
			[]string{"DEBG l: ACKNOWLEDGED -> READY", "DEBG l: READY -> UNKNOWN", unknownWarn}},
		{"unknown swallows everything", Unknown, []string{"READY\n"}, Unknown, noAnswer, nil},
		{"ok", Busy, []string{"RESULT 2\nOK"}, Acknowledged, processed,
			[]string{"DEBG l: event was processed", "DEBG l: BUSY -> ACKNOWLEDGED"}},
		{"ok and ready in one write", Busy, []string{"RESULT 2\nOKREADY\n"}, Ready, processed,
			[]string{"DEBG l: event was processed", "DEBG l: BUSY -> ACKNOWLEDGED", "DEBG l: ACKNOWLEDGED -> READY"}},
		{"result split everywhere", Busy, []string{"RES", "ULT 2", "\n", "O", "K"}, Acknowledged, processed,
			[]string{"DEBG l: event was processed", "DEBG l: BUSY -> ACKNOWLEDGED"}},
		{"fail", Busy, []string{"RESULT 4\nFAIL"}, Acknowledged, rejected,
			[]string{"WARN l: event was rejected", "DEBG l: BUSY -> ACKNOWLEDGED"}},
		{"anything but OK rejects", Busy, []string{"RESULT 3\nOK\n"}, Acknowledged, rejected,
			[]string{"WARN l: event was rejected", "DEBG l: BUSY -> ACKNOWLEDGED"}},
		{"prefix is not checked", Busy, []string{"XXXXXXX2\nOK"}, Acknowledged, processed,
			[]string{"DEBG l: event was processed", "DEBG l: BUSY -> ACKNOWLEDGED"}},
		{"empty result waits for more output", Busy, []string{"RESULT 0\n"}, Busy, noAnswer, nil},
		{"empty result rejects once more output comes", Busy, []string{"RESULT 0\n", "READY\n"}, Ready, rejected,
			[]string{"WARN l: event was rejected", "DEBG l: BUSY -> ACKNOWLEDGED", "DEBG l: ACKNOWLEDGED -> READY"}},
		{"bad result line", Busy, []string{"garbage\nmore"}, Unknown, rejected,
			[]string{"WARN l: bad result line: 'garbage'", "DEBG l: BUSY -> UNKNOWN", unknownWarn}},
		{"undecodable result line", Busy, []string{"RESULT \xff\n"}, Unknown, rejected,
			[]string{`WARN l: bad result line: 'Undecodable: b'RESULT \xff''`, "DEBG l: BUSY -> UNKNOWN", unknownWarn}},
		{"incomplete result line waits", Busy, []string{"RESULT 2"}, Busy, noAnswer, nil},
	}
	levels := map[int]string{10: "DEBG", 30: "WARN"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newProtocol("l")
			p.state = tt.start
			var logs []string
			ans := noAnswer
			for _, c := range tt.chunks {
				ls, a := p.feed([]byte(c))
				for _, l := range ls {
					logs = append(logs, levels[int(l.level)]+" "+l.text)
				}
				if a != noAnswer {
					if ans != noAnswer {
						t.Fatalf("answered twice")
					}
					ans = a
				}
			}
			if p.state != tt.want || ans != tt.ans || !slices.Equal(logs, tt.logs) {
				t.Errorf("state %v, answer %v, logs:\n%s\nwant state %v, answer %v, logs:\n%s",
					p.state, ans, strings.Join(logs, "\n"), tt.want, tt.ans, strings.Join(tt.logs, "\n"))
			}
		})
	}
}
