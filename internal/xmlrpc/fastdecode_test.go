package xmlrpc

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// plainAnswers are answers in the form the scanner takes.
func plainAnswers() []any {
	return []any{
		"", "plain", "a & b <c> \"d\" 'e'\n\ttabbed", 0, -42, 1 << 40, true, false,
		[]any{}, map[string]any{},
		[]any{Struct{{"name", "p1"}, {"pid", 123}, {"statename", "RUNNING"}, {"spawnerr", ""},
			{"description", "pid 123, uptime 0:00:01"}, {"ok", true}}},
		Struct{{"nested", []any{[]any{1, "x"}, Struct{{"k", []any{}}}}}},
	}
}

// Every answer of the plain form is scanned, and to what DecodeResponse gives.
func TestScanResponseMatchesDecoder(t *testing.T) {
	for _, v := range plainAnswers() {
		var body bytes.Buffer
		if err := EncodeResponse(&body, v); err != nil {
			t.Fatal(err)
		}
		got, ok := scanResponse(body.String())
		if !ok {
			t.Errorf("%#v: not scanned", v)
			continue
		}
		want, err := DecodeResponse(bytes.NewReader(body.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("scanned %#v, decoder %#v", got, want)
		}
	}
}

// What is not plain goes to the decoder: a fault, other types, a comment,
// an attribute, a character reference, text outside ASCII, a carriage return.
func TestScanResponseLeavesTheRest(t *testing.T) {
	for _, body := range []string{
		xmlHeader + "<methodResponse>\n<fault>\n<value><struct><member><name>faultCode</name><value><int>10</int></value></member><member><name>faultString</name><value><string>BAD_NAME</string></value></member></struct></value></fault></methodResponse>",
		xmlHeader + "<methodResponse><params><param><value><double>1.5</double></value></param></params></methodResponse>",
		xmlHeader + "<methodResponse><params><param><value><!-- c --><int>1</int></value></param></params></methodResponse>",
		xmlHeader + "<methodResponse><params><param><value><string a='1'>x</string></value></param></params></methodResponse>",
		xmlHeader + "<methodResponse><params><param><value>&#65;</value></param></params></methodResponse>",
		xmlHeader + "<methodResponse><params><param><value>é</value></param></params></methodResponse>",
		xmlHeader + "<methodResponse><params><param><value>a\rb</value></param></params></methodResponse>",
		xmlHeader + "<methodResponse><params><param><value><int>99999999999999999999</int></value></param></params></methodResponse>",
	} {
		if v, ok := scanResponse(body); ok {
			t.Errorf("%q scanned as %#v", body, v)
		}
		want, wantErr := DecodeResponse(bytes.NewReader([]byte(body)))
		got, gotErr := DecodeResponseString(body)
		if !reflect.DeepEqual(got, want) || (gotErr == nil) != (wantErr == nil) {
			t.Errorf("%q: DecodeResponseString = %#v, %v; DecodeResponse = %#v, %v", body, got, gotErr, want, wantErr)
		}
	}
}

// Whatever the scanner takes, DecodeResponse takes too, with the same value.
func FuzzScanResponse(f *testing.F) {
	for _, v := range plainAnswers() {
		var body bytes.Buffer
		EncodeResponse(&body, v)
		f.Add(body.Bytes())
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		got, ok := scanResponse(string(body))
		if !ok {
			return
		}
		want, err := DecodeResponse(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("scanned %#v, decoder refused: %v", got, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("scanned %#v, decoder %#v", got, want)
		}
	})
}

// structsOf runs decodeStructArray on body through a window of size
// bytes and rebuilds the maps its member calls describe, keeping copies of
// the strings as a caller must.
func structsOf(body string, size int) (any, error) {
	list := []any{}
	n, err := decodeStructArray(strings.NewReader(body), func(i int, name string, v Value) {
		for len(list) <= i {
			list = append(list, map[string]any{})
		}
		v.Str = strings.Clone(v.Str)
		list[i].(map[string]any)[strings.Clone(name)] = v.Any()
	}, size)
	for len(list) < n {
		list = append(list, map[string]any{})
	}
	if err != nil {
		return nil, err
	}
	return list, nil
}

// windowSizes are the window sizes the tests read through: one byte, a
// few, less than an answer's head, less than a struct, and one larger than
// any test answer.
var windowSizes = []int{1, 7, 64, 128, 200, 512, structWindow}

// manyStructs is an array of more structs than a small window holds, each
// with strings in an array and a struct: what the scanner keeps of a
// window must outlive it.
func manyStructs() []any {
	var list []any
	for i := range 50 {
		list = append(list, Struct{{"name", fmt.Sprint("p", i)}, {"list", []any{fmt.Sprint("s", i), map[string]any{"k": "v"}}}})
	}
	return list
}

// DecodeStructArray reports the members DecodeResponseString's maps hold,
// for arrays of structs the scanner takes and for ones it leaves to the
// decoder (here after calling member for the first struct), through any
// window; a fault or another value is an error.
func TestDecodeStructArrayMatchesDecoder(t *testing.T) {
	plainStruct := Struct{{"name", "p1"}, {"pid", 1234}, {"statename", "RUNNING"}, {"ok", true}, {"list", []any{1, "x"}}}
	for _, v := range []any{
		[]any{}, []any{Struct{}}, []any{plainStruct, Struct{{"name", "p2"}}, Struct{}}, manyStructs(),
		[]any{plainStruct, Struct{{"name", "é"}, {"pid", 1}}}, // the decoder's, after a partial scan
		[]any{plainStruct, Struct{{"x", 1.5}}},
	} {
		var body bytes.Buffer
		if err := EncodeResponse(&body, v); err != nil {
			t.Fatal(err)
		}
		want, err := DecodeResponseString(body.String())
		if err != nil {
			t.Fatal(err)
		}
		for _, size := range windowSizes {
			got, err := structsOf(body.String(), size)
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Errorf("%#v through %d bytes: got %#v, %v; want %#v", v, size, got, err, want)
			}
		}
	}
	for _, body := range []string{
		xmlHeader + "<methodResponse>\n<fault>\n<value><struct><member><name>faultCode</name><value><int>10</int></value></member><member><name>faultString</name><value><string>BAD_NAME</string></value></member></struct></value></fault></methodResponse>",
		xmlHeader + "<methodResponse><params><param><value><array><data><value><int>1</int></value></data></array></value></param></params></methodResponse>",
		xmlHeader + "<methodResponse><params><param><value><string>x</string></value></param></params></methodResponse>",
	} {
		for _, size := range windowSizes {
			_, err := structsOf(body, size)
			var f *Fault
			if err == nil || errors.As(err, &f) != strings.Contains(body, "<fault>") {
				t.Errorf("%q through %d bytes: error %v", body, size, err)
			}
		}
	}
}

// Whatever the body, DecodeStructArray through any window gives what
// DecodeResponse's array of maps holds, or fails where it fails or holds
// another value.
func FuzzDecodeStructArray(f *testing.F) {
	for _, v := range append(plainAnswers(), []any{Struct{{"name", "é"}}, Struct{{"x", 1.5}}}, manyStructs()) {
		var body bytes.Buffer
		EncodeResponse(&body, v)
		f.Add(body.Bytes(), uint16(7))
		f.Add(body.Bytes(), uint16(511))
	}
	f.Fuzz(func(t *testing.T, body []byte, size uint16) {
		want, wantErr := DecodeResponse(bytes.NewReader(body))
		if list, ok := want.([]any); ok {
			for _, item := range list {
				if _, ok := item.(map[string]any); !ok {
					wantErr = errors.New("not a struct")
				}
			}
		} else if wantErr == nil {
			wantErr = errors.New("not an array")
		}
		got, err := structsOf(string(body), int(size)+1)
		if (err == nil) != (wantErr == nil) {
			t.Fatalf("through %d bytes: error %v, decoder's %v", int(size)+1, err, wantErr)
		}
		var f, wantF *Fault
		if errors.As(err, &f) != errors.As(wantErr, &wantF) || f != nil && *f != *wantF {
			t.Fatalf("through %d bytes: error %v, decoder's %v", int(size)+1, err, wantErr)
		}
		if err == nil && !reflect.DeepEqual(got, want) && fmt.Sprint(got) != fmt.Sprint(want) { // Sprint: NaN is NaN
			t.Fatalf("through %d bytes: %#v, decoder %#v", int(size)+1, got, want)
		}
	})
}
