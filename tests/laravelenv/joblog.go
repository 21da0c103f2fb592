package laravelenv

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// JobLog is the fixture's job log: `done <id> pid=<pid>` and `fail <id> ...`
// lines.
type JobLog struct {
	Done       map[string][]int // id → pid of each done line
	Fails      []string         // the fail lines
	Unexpected []string         // non-blank lines that are neither
}

// ReadJobLog reads and parses the job log at path.
func ReadJobLog(t testing.TB, path string) JobLog {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	r := JobLog{Done: map[string][]int{}}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) == 0:
		case f[0] == "done" && len(f) == 3 && strings.HasPrefix(f[2], "pid="):
			pid, _ := strconv.Atoi(strings.TrimPrefix(f[2], "pid="))
			r.Done[f[1]] = append(r.Done[f[1]], pid)
		case f[0] == "fail":
			r.Fails = append(r.Fails, line)
		default:
			r.Unexpected = append(r.Unexpected, line)
		}
	}
	return r
}

// WaitAllDone polls read every poll until every id has a done line, failing
// t after timeout, and returns the last log read.
func WaitAllDone(t testing.TB, read func() JobLog, ids []string, timeout, poll time.Duration) JobLog {
	t.Helper()
	var r JobLog
	WaitFor(t, fmt.Sprintf("%d jobs done", len(ids)), timeout, poll, func() bool {
		r = read()
		for _, id := range ids {
			if len(r.Done[id]) == 0 {
				return false
			}
		}
		return true
	})
	return r
}
