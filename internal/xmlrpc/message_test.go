package xmlrpc

import (
	"bytes"
	"strings"
	"testing"
)

// A message larger than many chunks keeps every byte in order across the
// chunk boundaries, and its Len is what WriteTo writes.
func TestMessageAcrossChunks(t *testing.T) {
	var items []any
	var want strings.Builder
	want.WriteString(xmlHeader + "<methodResponse>\n<params>\n<param>\n<value><array><data>\n")
	for i := range 3000 {
		s := strings.Repeat(string(rune('a'+i%26)), i%997) + "<&>"
		items = append(items, s)
		want.WriteString("<value><string>" + s[:len(s)-3] + "&lt;&amp;&gt;</string></value>\n")
	}
	want.WriteString("</data></array></value>\n</param>\n</params>\n</methodResponse>\n")
	m, err := NewResponse(items)
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	n, err := m.WriteTo(&got)
	if err != nil {
		t.Fatal(err)
	}
	if got.String() != want.String() {
		t.Errorf("message differs from the expected %d bytes (got %d)", want.Len(), got.Len())
	}
	if int(n) != m.Len() || m.Len() != want.Len() {
		t.Errorf("WriteTo wrote %d, Len %d, want %d", n, m.Len(), want.Len())
	}
	if len(m.chunks) < 10 {
		t.Errorf("%d chunks for %d bytes: the test does not cross chunk boundaries", len(m.chunks), m.Len())
	}
}

// Messages built from released chunks hold only their own bytes: nothing
// of the messages released before them, and nothing of each other when
// built at the same time, whatever their sizes.
func TestMessageReusesReleasedChunks(t *testing.T) {
	var released Message
	released.WriteString(strings.Repeat("x", 1<<20))
	released.Release()
	if released.Len() != 0 || released.String() != "" {
		t.Fatalf("a released message still holds %d bytes", released.Len())
	}
	for round, size := range []int{300 << 10, 100, 70 << 10, 1 << 20, 5000} {
		wants := []string{strings.Repeat(string(rune('a'+round)), size), strings.Repeat(string(rune('A'+round)), size)}
		ms := make([]Message, len(wants))
		for i := 0; i < size; i += 1000 { // both grow at once
			for k := range ms {
				ms[k].WriteString(wants[k][i:min(i+1000, size)])
			}
		}
		for k := range ms {
			var w bytes.Buffer
			if n, err := ms[k].WriteTo(&w); err != nil || int(n) != size || w.String() != wants[k] || ms[k].Len() != size {
				t.Fatalf("round %d, message %d: WriteTo wrote %d bytes (%v), Len %d, not the %d written", round, k, n, err, ms[k].Len(), size)
			}
		}
		for k := range ms {
			ms[k].Release()
		}
	}
}
