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
