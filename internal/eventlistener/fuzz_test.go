package eventlistener

import (
	"reflect"
	"testing"
)

// A listener's output read in chunks of any size has the same effects and
// ends in the same state as read at once, from every starting state.
func FuzzProtocol(f *testing.F) {
	f.Fuzz(func(t *testing.T, out []byte, cut uint8, start uint8) {
		from := []State{Acknowledged, Ready, Busy, Unknown}[int(start)%4]
		whole := newProtocol("l")
		whole.state = from
		wantEffects := whole.feed(out)

		split := newProtocol("l")
		split.state = from
		var effects []effect
		step := int(cut%16) + 1
		for i := 0; i < len(out); i += step {
			effects = append(effects, split.feed(out[i:min(i+step, len(out))])...)
		}
		if !reflect.DeepEqual(effects, wantEffects) || split.state != whole.state {
			t.Fatalf("in chunks of %d: %v ending %v; at once: %v ending %v", step, effects, split.state, wantEffects, whole.state)
		}
	})
}
