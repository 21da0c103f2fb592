package xmlrpc

import (
	"math"
	"strings"
	"testing"
)

// A struct written through a StructShape is byte for byte the generic
// Struct of the same members, for escaped and invalid text, every int
// width, and across chunk boundaries (many structs in one array).
func TestStructShapeMatchesGeneric(t *testing.T) {
	shape := NewStructShape(Field{Name: "a&b"}, Field{Name: "n", Int: true}, Field{Name: "text"}, Field{Name: "last", Int: true})
	texts := []string{"", "plain", "<tag> & more", "bad\xffutf8", strings.Repeat("long é ", 100)}
	ints := []int64{0, -1, 7, math.MaxInt32, math.MinInt64, math.MaxInt64}
	var generic []any
	var fast Message
	fast.BeginArray()
	for i := range 300 {
		s, n := texts[i%len(texts)], ints[i%len(ints)]
		generic = append(generic, Struct{{"a&b", s}, {"n", n}, {"text", s + "!"}, {"last", n / 3}})
		w := shape.Begin(&fast)
		w.String(s)
		w.Int(n)
		w.Text([]byte(s + "!"))
		w.Int(n / 3)
	}
	fast.EndArray()
	want, err := NewResponse(generic)
	if err != nil {
		t.Fatal(err)
	}
	const head, tail = xmlHeader + "<methodResponse>\n<params>\n<param>\n", "</param>\n</params>\n</methodResponse>\n"
	if got := head + fast.String() + tail; got != want.String() {
		t.Errorf("the shape's encoding differs from the generic one:\n got %.300q\nwant %.300q", got, want.String())
	}
	if fast.Len() != want.Len()-len(head)-len(tail) {
		t.Errorf("Len %d, want %d", fast.Len(), want.Len()-len(head)-len(tail))
	}
}
