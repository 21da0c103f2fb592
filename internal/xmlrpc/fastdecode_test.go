package xmlrpc

import (
	"bytes"
	"errors"
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

// structsOf runs DecodeStructArrayString on body and rebuilds the maps its
// member calls describe.
func structsOf(body string) (any, error) {
	list := []any{}
	n, err := DecodeStructArrayString(body, func(i int, name string, v any) {
		for len(list) <= i {
			list = append(list, map[string]any{})
		}
		list[i].(map[string]any)[name] = v
	})
	for len(list) < n {
		list = append(list, map[string]any{})
	}
	if err != nil {
		return nil, err
	}
	return list, nil
}

// DecodeStructArrayString reports the members DecodeResponseString's maps
// hold, for arrays of structs the scanner takes and for ones it leaves to
// the decoder (here after calling member for the first struct); a fault or
// another value is an error.
func TestDecodeStructArrayMatchesDecoder(t *testing.T) {
	plainStruct := Struct{{"name", "p1"}, {"pid", 1234}, {"statename", "RUNNING"}, {"ok", true}, {"list", []any{1, "x"}}}
	for _, v := range []any{
		[]any{}, []any{Struct{}}, []any{plainStruct, Struct{{"name", "p2"}}, Struct{}},
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
		got, err := structsOf(body.String())
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%#v: got %#v, %v; want %#v", v, got, err, want)
		}
	}
	for _, body := range []string{
		xmlHeader + "<methodResponse>\n<fault>\n<value><struct><member><name>faultCode</name><value><int>10</int></value></member><member><name>faultString</name><value><string>BAD_NAME</string></value></member></struct></value></fault></methodResponse>",
		xmlHeader + "<methodResponse><params><param><value><array><data><value><int>1</int></value></data></array></value></param></params></methodResponse>",
		xmlHeader + "<methodResponse><params><param><value><string>x</string></value></param></params></methodResponse>",
	} {
		_, err := structsOf(body)
		var f *Fault
		if err == nil || errors.As(err, &f) != strings.Contains(body, "<fault>") {
			t.Errorf("%q: error %v", body, err)
		}
	}
}
