package xmlrpc

import (
	"bytes"
	"errors"
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

// WriteResponse writes what NewResponse makes, byte for byte, with the
// length it announces before the first byte: text to escape, bad UTF-8,
// bytes written one at a time (WriteByte), empty values. An answer of up
// to maxHeld bytes is encoded once; a larger one is sent while its second
// encoding runs, in writes of at most a chunk.
func TestWriteResponseMatchesNewResponse(t *testing.T) {
	var long []any
	for i := range 3000 {
		long = append(long, strings.Repeat(string(rune('a'+i%26)), i%997)+"<&>\xff")
	}
	for name, v := range map[string]*encodeWatch{
		"empty string":             {v: ""},
		"struct":                   {v: Struct{{"name", "a&b"}, {"n", 7}, {"ok", true}, {"f", 1.5}, {"b", []byte{0, 1, 2}}}},
		"500 process infos (held)": {v: allProcessInfo()},
		"3,000 strings (streamed)": {v: long},
		"bytes one at a time":      {v: strings.Repeat("é", maxHeld), byBytes: true},
	} {
		want, err := NewResponse(v)
		if err != nil {
			t.Fatal(err)
		}
		w := &chunkRecorder{}
		announced := -1
		v.encodes = 0
		w.onFirst = func() { w.duringEncode = v.running }
		err = WriteResponse(w, v, func(n int) {
			if w.Len() != 0 {
				t.Errorf("%s: length announced after %d bytes were written", name, w.Len())
			}
			announced = n
		})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if w.String() != want.String() {
			t.Errorf("%s: %d bytes written differ from NewResponse's %d", name, w.Len(), want.Len())
		}
		if announced != want.Len() {
			t.Errorf("%s: announced %d bytes, NewResponse makes %d", name, announced, want.Len())
		}
		if w.largest > maxChunk {
			t.Errorf("%s: a write of %d bytes, more than a chunk (%d)", name, w.largest, maxChunk)
		}
		held := want.Len() <= maxHeld
		if held && (v.encodes != 1 || w.duringEncode) {
			t.Errorf("%s: %d bytes encoded %d times, first write during an encoding %t: want it held, encoded once", name, want.Len(), v.encodes, w.duringEncode)
		}
		if !held && (v.encodes != 2 || !w.duringEncode) {
			t.Errorf("%s: %d bytes encoded %d times, first write during an encoding %t: want it streamed", name, want.Len(), v.encodes, w.duringEncode)
		}
		want.Release()
	}
}

// encodeWatch encodes v (as a string written byte by byte if byBytes),
// counting its encodings and telling whether one is running.
type encodeWatch struct {
	v       any
	byBytes bool
	encodes int
	running bool
}

func (e *encodeWatch) MarshalXMLRPC(m *Message) {
	e.encodes++
	e.running = true
	defer func() { e.running = false }()
	if !e.byBytes {
		writeValue(m, e.v)
		return
	}
	m.WriteString("<value><string>")
	for _, c := range []byte(e.v.(string)) {
		m.WriteByte(c)
	}
	m.WriteString("</string></value>\n")
}

// A value that cannot be encoded fails WriteResponse before the length is
// announced and before any byte is written; a failing writer's error is
// returned, and nothing more is written after it.
func TestWriteResponseErrors(t *testing.T) {
	w := &chunkRecorder{}
	called := false
	err := WriteResponse(w, []any{"x", make(chan int)}, func(int) { called = true })
	if err == nil || called || w.Len() != 0 {
		t.Errorf("unencodable value: error %v, length announced %t, %d bytes written", err, called, w.Len())
	}
	f := &chunkRecorder{failAfter: 1}
	err = WriteResponse(f, strings.Repeat("x", 2*maxHeld), func(int) {})
	if err == nil || f.writes != 2 {
		t.Errorf("failing writer: error %v after %d writes, want its error after the 2nd", err, f.writes)
	}
}

// chunkRecorder keeps what is written and counts the writes; after
// failAfter writes (if not 0) each write fails.
type chunkRecorder struct {
	bytes.Buffer
	writes, largest, failAfter int
	onFirst                    func() // if set, called at the first write
	duringEncode               bool
}

func (c *chunkRecorder) Write(p []byte) (int, error) {
	if c.writes == 0 && c.onFirst != nil {
		c.onFirst()
	}
	c.writes++
	c.largest = max(c.largest, len(p))
	if c.failAfter > 0 && c.writes > c.failAfter {
		return 0, errors.New("broken pipe")
	}
	return c.Buffer.Write(p)
}
