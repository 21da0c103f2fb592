package pool

import (
	"bytes"
	"testing"
)

// FuzzJobLines feeds a worker's output (untrusted: whatever the child
// prints) to the job-line tracker whole and cut at an arbitrary point: the
// log gets the bytes unchanged both times, and the jobs counted and the
// busy flag do not depend on where the pipe happened to cut the output.
func FuzzJobLines(f *testing.F) {
	f.Add([]byte("[2026-11-25 17:02:05][xHbTR7CD] Processing: App\\Jobs\\A\n[2026-11-25 17:02:05][xHbTR7CD] Processed:  App\\Jobs\\A\n"), uint(40))
	f.Add([]byte("] Failed: x\n] Processing: y"), uint(3))
	f.Add(bytes.Repeat([]byte("x"), 300), uint(256))
	f.Fuzz(func(t *testing.T, out []byte, cut uint) {
		at := int(cut % uint(len(out)+1))
		type result struct {
			log          string
			busy         bool
			done, failed uint64
		}
		feed := func(writes ...[]byte) result {
			var log bytes.Buffer
			tr := &jobTracker{inner: &log, counts: new(jobCounters)}
			cw := tr.ForSpawn()
			for _, w := range writes {
				if n, err := cw.Write(w); n != len(w) || err != nil {
					t.Fatalf("Write = %d, %v", n, err)
				}
			}
			return result{log.String(), tr.busy.Load(), tr.counts.done.Load(), tr.counts.failed.Load()}
		}
		whole, cutUp := feed(out), feed(out[:at], out[at:])
		if whole.log != string(out) {
			t.Errorf("log %q, want the output unchanged", whole.log)
		}
		if whole != cutUp {
			t.Errorf("whole %+v, cut at %d %+v", whole, at, cutUp)
		}
	})
}
