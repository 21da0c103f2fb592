package xmlrpc

import (
	"bytes"
	"errors"
	"io"
	"math"
	"math/big"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// Goldens produced once with python3's xmlrpc.client.dumps.
const (
	goldenStruct  = "<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n<value><struct>\n<member>\n<name>a</name>\n<value><int>1</int></value>\n</member>\n<member>\n<name>b</name>\n<value><array><data>\n<value><boolean>1</boolean></value>\n<value><string>s&lt;&amp;&gt;</string></value>\n<value><double>1.5</double></value>\n</data></array></value>\n</member>\n<member>\n<name>c</name>\n<value><struct>\n</struct></value>\n</member>\n<member>\n<name>d</name>\n<value><array><data>\n</data></array></value>\n</member>\n</struct></value>\n</param>\n</params>\n</methodResponse>\n"
	goldenUnicode = "<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n<value><string>héllo</string></value>\n</param>\n</params>\n</methodResponse>\n"
	goldenFault   = "<?xml version='1.0'?>\n<methodResponse>\n<fault>\n<value><struct>\n<member>\n<name>faultCode</name>\n<value><int>10</int></value>\n</member>\n<member>\n<name>faultString</name>\n<value><string>BAD_NAME: nosuch</string></value>\n</member>\n</struct></value>\n</fault>\n</methodResponse>\n"
	goldenCall    = "<?xml version='1.0'?>\n<methodCall>\n<methodName>supervisor.startProcess</methodName>\n<params>\n<param>\n<value><string>a</string></value>\n</param>\n<param>\n<value><int>2</int></value>\n</param>\n<param>\n<value><boolean>1</boolean></value>\n</param>\n</params>\n</methodCall>\n"
	goldenNoArgs  = "<?xml version='1.0'?>\n<methodCall>\n<methodName>system.listMethods</methodName>\n<params>\n</params>\n</methodCall>\n"
	goldenScalars = "<?xml version='1.0'?>\n<methodCall>\n<methodName>m</methodName>\n<params>\n<param>\n<value><base64>\naGkA\n</base64></value>\n</param>\n<param>\n<value><dateTime.iso8601>20240102T03:04:05</dateTime.iso8601></value>\n</param>\n<param>\n<value><double>0.1</double></value>\n</param>\n<param>\n<value><double>1e+20</double></value>\n</param>\n<param>\n<value><double>-0.0</double></value>\n</param>\n<param>\n<value><double>3.0</double></value>\n</param>\n</params>\n</methodCall>\n"
	goldenControl = "<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n<value><string>a\r\nb]]&gt;\x7f</string></value>\n</param>\n</params>\n</methodResponse>\n"
)

var when = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

func TestEncodeGoldens(t *testing.T) {
	tests := []struct {
		name   string
		encode func(*bytes.Buffer) error
		want   string
	}{
		{"struct", func(b *bytes.Buffer) error {
			return EncodeResponse(b, map[string]any{"a": 1, "b": []any{true, "s<&>", 1.5}, "c": map[string]any{}, "d": []any{}})
		}, goldenStruct},
		{"unicode", func(b *bytes.Buffer) error { return EncodeResponse(b, "héllo") }, goldenUnicode},
		{"fault", func(b *bytes.Buffer) error { return EncodeFault(b, &Fault{10, "BAD_NAME: nosuch"}) }, goldenFault},
		{"call", func(b *bytes.Buffer) error { return EncodeCall(b, "supervisor.startProcess", "a", 2, true) }, goldenCall},
		{"no args", func(b *bytes.Buffer) error { return EncodeCall(b, "system.listMethods") }, goldenNoArgs},
		{"scalars", func(b *bytes.Buffer) error {
			return EncodeCall(b, "m", []byte("hi\x00"), when, 0.1, 1e20, math.Copysign(0, -1), 3.0)
		}, goldenScalars},
		{"control", func(b *bytes.Buffer) error { return EncodeResponse(b, "a\r\nb]]>\x7f") }, goldenControl},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := tt.encode(&b); err != nil {
				t.Fatal(err)
			}
			if got := b.String(); got != tt.want {
				t.Errorf("got\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

// Invalid UTF-8 becomes U+FFFD, one for each run of bad bytes, wherever
// it is and whatever surrounds it, so that the document stays well-formed;
// valid UTF-8 and ASCII control bytes are written as they are.
func TestEncodeInvalidUTF8(t *testing.T) {
	for in, want := range map[string]string{
		"\x80":                   "\uFFFD",
		"a\xffb":                 "a\uFFFDb",
		"cut\xe6\x97":            "cut\uFFFD",
		"é<\x80\x80&>":           "é&lt;\uFFFD&amp;&gt;",
		"日本\xc3":                 "日本\uFFFD",
		"\x7f\x01ok\xed\xa0\x80": "\x7f\x01ok\uFFFD",
	} {
		var b bytes.Buffer
		if err := EncodeResponse(&b, in); err != nil {
			t.Fatal(err)
		}
		if got := b.String(); got != xmlHeader+"<methodResponse>\n<params>\n<param>\n<value><string>"+want+"</string></value>\n</param>\n</params>\n</methodResponse>\n" {
			t.Errorf("%q encoded as %q, want the string %q", in, got, want)
		}
	}
}

// Whichever byte of a string needs escaping or replacing, at any offset
// of the 8-byte words the escaper checks at once, and beside any byte
// that does not, it is escaped as the plain rules say.
func TestEncodeEscapesEveryOffset(t *testing.T) {
	escape := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")
	var plain []byte
	for c := range byte(utf8.RuneSelf) {
		plain = append(plain, c)
	}
	for _, special := range []string{"&", "<", ">", "\x80", "\xff", "é", "日"} {
		for n := range 20 {
			for at := range n + 1 {
				for _, fill := range []byte{'a', ';', '=', '?', '\x00', '\x7f', '%', '.', '$', '|'} {
					in := strings.Repeat(string(fill), at) + special + string(plain[(n*7)%len(plain):][:min(n-at, len(plain)-(n*7)%len(plain))])
					want := escape.Replace(strings.ToValidUTF8(in, "\uFFFD"))
					var m Message
					writeEscaped(&m, in)
					if got := m.String(); got != want {
						t.Fatalf("%q escaped as %q, want %q", in, got, want)
					}
					m = Message{}
					writeEscaped(&m, []byte(in))
					if got := m.String(); got != want {
						t.Fatalf("[]byte %q escaped as %q, want %q", in, got, want)
					}
				}
			}
		}
	}
}

func TestEncodeTypedSlicesAndMaps(t *testing.T) {
	var got, want bytes.Buffer
	if err := EncodeResponse(&got, []any{[]string{"x"}, []int{1}, []map[string]any{{"k": int64(2)}}, map[string]string{"s": "v"}, int32(7)}); err != nil {
		t.Fatal(err)
	}
	if err := EncodeResponse(&want, []any{[]any{"x"}, []any{1}, []any{map[string]any{"k": 2}}, map[string]any{"s": "v"}, 7}); err != nil {
		t.Fatal(err)
	}
	if got.String() != want.String() {
		t.Errorf("got\n%s\nwant\n%s", got.String(), want.String())
	}
}

func TestEncodeUnsupported(t *testing.T) {
	for _, v := range []any{nil, struct{}{}, map[int]int{1: 1}, []any{make(chan int)}} {
		if err := EncodeResponse(&bytes.Buffer{}, v); err == nil {
			t.Errorf("EncodeResponse(%#v) succeeded", v)
		}
	}
}

func TestDoubleFormat(t *testing.T) {
	for f, want := range map[float64]string{
		0: "0.0", 1: "1.0", -2.5: "-2.5", 1e16: "1e+16", 1e15: "1000000000000000.0",
		0.0001: "0.0001", 0.00001: "1e-05", 123.456: "123.456", math.Inf(1): "inf",
	} {
		if got := FormatDouble(f); got != want {
			t.Errorf("FormatDouble(%v) = %q, want %q", f, got, want)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	values := []any{
		"", "plain", "héllo wörld ☃", "<&>\"'", "tab\there\nnewline", "\x1b[31mred\x1b[0m\x00",
		0, -5, 1 << 40, true, false, 2.25, []byte{0, 1, 255}, []byte{}, when,
		[]any{}, []any{1, "a", []any{true}}, map[string]any{}, map[string]any{"k<": map[string]any{"n": []any{1.5}}},
		[]byte(strings.Repeat("x", 200)),
	}
	for _, v := range values {
		var b bytes.Buffer
		if err := EncodeResponse(&b, v); err != nil {
			t.Fatalf("encode %#v: %v", v, err)
		}
		got, err := DecodeResponse(&b)
		if err != nil {
			t.Fatalf("decode %#v: %v", v, err)
		}
		if !reflect.DeepEqual(got, v) {
			t.Errorf("round trip: got %#v, want %#v", got, v)
		}
		b.Reset()
		if err := EncodeCall(&b, "ns.m", v, 1); err != nil {
			t.Fatal(err)
		}
		method, params, err := DecodeCall(&b)
		if err != nil || method != "ns.m" || !reflect.DeepEqual(params, []any{v, 1}) {
			t.Errorf("call round trip of %#v: %q %#v %v", v, method, params, err)
		}
	}
}

func TestDecodeCallLax(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		method string
		params []any
	}{
		{"no params", "<methodCall><methodName>supervisor.getState</methodName></methodCall>", "supervisor.getState", nil},
		{"untyped value", "<?xml version=\"1.0\" encoding=\"UTF-8\"?><methodCall><methodName>m</methodName><params><param><value> raw text </value></param></params></methodCall>", "m", []any{" raw text "}},
		{"empty value", "<methodCall><methodName>m</methodName><params><param><value/></param><param><value><string/></value></param></params></methodCall>", "m", []any{"", ""}},
		{"lax boolean", "<methodCall><methodName>m</methodName><params><param><value><boolean>true</boolean></value></param><param><value><boolean>1</boolean></value></param></params></methodCall>", "m", []any{false, true}},
		{"i4 and spaces", "<methodCall>\n <methodName>m</methodName>\n <params>\n  <param><value><i4> 42 </i4></value></param>\n </params>\n</methodCall>", "m", []any{42}},
		{"member value first", "<methodCall><methodName>m</methodName><params><param><value><struct><member><value><int>1</int></value><name>a</name></member></struct></value></param></params></methodCall>", "m", []any{map[string]any{"a": 1}}},
		{"comment", "<methodCall><!-- hi --><methodName>m</methodName></methodCall>", "m", nil},
		{"declared latin-1 read as UTF-8", "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><methodCall><methodName>m</methodName><params><param><value>caf\u00e9</value></param></params></methodCall>", "m", []any{"caf\u00e9"}},
		{"declared UTF-16 read as UTF-8", "<?xml version=\"1.0\" encoding=\"UTF-16\"?><methodCall><methodName>m</methodName></methodCall>", "m", nil},
		{"int beyond 64 bits", "<methodCall><methodName>m</methodName><params><param><value><int>-123456789012345678901234567890</int></value></param></params></methodCall>", "m", []any{bigInt("-123456789012345678901234567890")}},
		{"double beyond float64", "<methodCall><methodName>m</methodName><params><param><value><double>1e400</double></value></param></params></methodCall>", "m", []any{math.Inf(1)}},
		{"entities", "<methodCall><methodName>m</methodName><params><param><value><string>&#9731;&amp;&quot;</string></value></param></params></methodCall>", "m", []any{"☃&\""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method, params, err := DecodeCall(strings.NewReader(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if method != tt.method || len(params) != len(tt.params) || (len(params) > 0 && !reflect.DeepEqual(params, tt.params)) {
				t.Errorf("got %q %#v, want %q %#v", method, params, tt.method, tt.params)
			}
		})
	}
}

func bigInt(s string) *big.Int {
	b, _ := new(big.Int).SetString(s, 10)
	return b
}

// nestedArrays streams a call whose one param nests levels arrays, without
// holding the document in memory.
func nestedArrays(levels int) io.Reader {
	const open, close = "<value><array><data>", "</data></array></value>"
	return io.MultiReader(
		strings.NewReader("<methodCall><methodName>m</methodName><params><param>"),
		io.LimitReader(repeatReader(open), int64(levels*len(open))),
		io.LimitReader(repeatReader(close), int64(levels*len(close))),
		strings.NewReader("</param></params></methodCall>"))
}

type repeatReader string

func (r repeatReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		n += copy(p[n:], r)
	}
	return n, nil
}

func TestDecodeDepthIsBounded(t *testing.T) {
	for _, levels := range []int{1_000, 1_000_000} {
		if _, _, err := DecodeCall(nestedArrays(levels)); !errors.Is(err, ErrTooDeep) {
			t.Errorf("%d levels: err %v, want ErrTooDeep", levels, err)
		}
	}
	// What real calls nest passes.
	_, params, err := DecodeCall(nestedArrays(30))
	if err != nil {
		t.Fatalf("30 levels: %v", err)
	}
	if a, ok := params[0].([]any); !ok || len(a) != 1 {
		t.Errorf("30 levels decoded as %#v", params[0])
	}
}

func TestDecodeMalformed(t *testing.T) {
	for _, in := range []string{
		"",
		"not xml",
		"<methodCall></methodCall>",
		"<methodCall><methodName>m</methodName>",
		"<methodCall><methodName>m</methodName><params><param><value><int>x</int></value></param></params></methodCall>",
		"<methodCall><methodName>m</methodName><params><param><value><double>x</double></value></param></params></methodCall>",
		"<methodCall><methodName>m</methodName><params><param><value><base64>!!</base64></value></param></params></methodCall>",
		"<methodCall><methodName>m</methodName><params><param><value><dateTime.iso8601>x</dateTime.iso8601></value></param></params></methodCall>",
		"<methodCall><methodName>m</methodName><params><param><value><bogus>1</bogus></value></param></params></methodCall>",
		"<methodCall><methodName>m</methodName><params><param><value><struct><member><name>a</name></member></struct></value></param></params></methodCall>",
		"<methodCall><methodName>m</methodName><params><param><value><array><value>1</value></array></value></param></params></methodCall>",
		"<methodCall><methodName>m</methodName><params><param><value><string>a<b/></string></value></param></params></methodCall>",
		"<methodResponse><params></params></methodResponse>",
		"<other/>",
	} {
		if m, p, err := DecodeCall(strings.NewReader(in)); err == nil {
			t.Errorf("DecodeCall(%q) = %q %#v, want error", in, m, p)
		}
	}
}

func TestDecodeResponse(t *testing.T) {
	v, err := DecodeResponse(strings.NewReader(goldenStruct))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"a": 1, "b": []any{true, "s<&>", 1.5}, "c": map[string]any{}, "d": []any{}}
	if !reflect.DeepEqual(v, want) {
		t.Errorf("got %#v", v)
	}

	_, err = DecodeResponse(strings.NewReader(goldenFault))
	var f *Fault
	if !errors.As(err, &f) || *f != (Fault{10, "BAD_NAME: nosuch"}) {
		t.Errorf("fault: got %v", err)
	}
	if f != nil && f.Error() != "10: BAD_NAME: nosuch" {
		t.Errorf("Error() = %q", f.Error())
	}

	for _, in := range []string{
		"<methodResponse><params></params></methodResponse>",
		"<methodResponse><fault><value><struct></struct></value></fault></methodResponse>",
		"<methodResponse><params><param><value><int>1</int></value></param><param><value><int>1</int></value></param></params></methodResponse>",
		"<methodResponse><bogus/></methodResponse>",
		goldenCall,
		goldenStruct[:len(goldenStruct)-20],
	} {
		if v, err := DecodeResponse(strings.NewReader(in)); err == nil {
			t.Errorf("DecodeResponse(%q) = %#v, want error", in, v)
		}
		if _, err := DecodeResponse(strings.NewReader(in)); errors.As(err, &f) {
			t.Errorf("DecodeResponse(%q) gave a Fault for malformed input", in)
		}
	}
}

func TestEncodeOrderedStruct(t *testing.T) {
	var got bytes.Buffer
	if err := EncodeFault(&got, &Fault{10, "BAD_NAME: nosuch"}); err != nil {
		t.Fatal(err)
	}
	var viaStruct bytes.Buffer
	viaStruct.WriteString(xmlHeader + "<methodResponse>\n<fault>\n")
	b := new(Message)
	writeValue(b, Struct{{"faultCode", 10}, {"faultString", "BAD_NAME: nosuch"}})
	viaStruct.WriteString(b.String() + "</fault>\n</methodResponse>\n")
	if got.String() != viaStruct.String() {
		t.Errorf("got\n%s\nwant\n%s", viaStruct.String(), got.String())
	}
	b = new(Message)
	writeValue(b, Struct{{"z", 1}, {"a", 2}})
	if want := "<value><struct>\n<member>\n<name>z</name>\n<value><int>1</int></value>\n</member>\n<member>\n<name>a</name>\n<value><int>2</int></value>\n</member>\n</struct></value>\n"; b.String() != want {
		t.Errorf("member order: %q", b.String())
	}
}
