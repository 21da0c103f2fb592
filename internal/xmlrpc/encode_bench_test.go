package xmlrpc

import (
	"bytes"
	"fmt"
	"io"
	"testing"
)

// BenchmarkEncodeAllProcessInfo encodes what getAllProcessInfo returns for
// 500 programs: the answer `supervisorctl status` waits for.
func BenchmarkEncodeAllProcessInfo(b *testing.B) {
	infos := allProcessInfo()
	b.ReportAllocs()
	for b.Loop() {
		if err := EncodeResponse(io.Discard, infos); err != nil {
			b.Fatal(err)
		}
	}
}

// allProcessInfo is what getAllProcessInfo returns for 500 programs.
func allProcessInfo() []any {
	infos := make([]any, 500)
	for i := range infos {
		name := fmt.Sprintf("p%04d", i)
		infos[i] = Struct{
			{"name", name}, {"group", name}, {"start", int64(1764900000)}, {"stop", int64(0)},
			{"now", int64(1764903600)}, {"state", 20}, {"statename", "RUNNING"}, {"spawnerr", ""},
			{"exitstatus", 0}, {"logfile", "/var/log/supervisor/" + name + "-stdout---supervisor-abcd1234.log"},
			{"stdout_logfile", "/var/log/supervisor/" + name + "-stdout---supervisor-abcd1234.log"},
			{"stderr_logfile", "/var/log/supervisor/" + name + "-stderr---supervisor-efgh5678.log"},
			{"pid", 100000 + i}, {"description", fmt.Sprintf("pid %d, uptime 1:00:00", 100000+i)},
		}
	}
	return infos
}

func allProcessInfoAnswer(b *testing.B) []byte {
	var body bytes.Buffer
	if err := EncodeResponse(&body, allProcessInfo()); err != nil {
		b.Fatal(err)
	}
	return body.Bytes()
}

// BenchmarkDecodeAllProcessInfo decodes that answer as the client does.
func BenchmarkDecodeAllProcessInfo(b *testing.B) {
	body := string(allProcessInfoAnswer(b))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeResponseString(body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeStructArray decodes it as the client's AllProcessInfo
// does, member by member.
func BenchmarkDecodeStructArray(b *testing.B) {
	body := allProcessInfoAnswer(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeStructArray(bytes.NewReader(body), func(int, string, Value) {}); err != nil {
			b.Fatal(err)
		}
	}
}
