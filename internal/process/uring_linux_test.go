package process

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/drover/drover/internal/logs"
)

// TestOutputRingReadsAndWrites: the ring reports each read and write as
// read(2) and write(2) would: the bytes, 0 at end of file, -EAGAIN on an
// empty pipe, -EBADF on a closed descriptor; appends land in order.
func TestOutputRingReadsAndWrites(t *testing.T) {
	r, err := newOutputRing()
	if err != nil {
		t.Skipf("no io_uring here (%v): the read(2) path is what runs", err)
	}
	defer r.close()
	pipe := func() (*os.File, *os.File) {
		pr, pw, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		syscall.SetNonblock(int(pr.Fd()), true)
		return pr, pw
	}
	full, fullW := pipe()
	empty, emptyW := pipe()
	ended, endedW := pipe()
	defer func() {
		for _, f := range []*os.File{full, fullW, empty, emptyW, ended} {
			f.Close()
		}
	}()
	fullW.Write([]byte("hello"))
	endedW.Close()
	bad, _ := os.Open(os.DevNull)
	bad.Close()
	fds := []int{int(full.Fd()), int(empty.Fd()), int(ended.Fd()), int(bad.Fd())}
	ops := make([]ringOp, len(fds))
	for i, fd := range fds {
		ops[i] = ringOp{fd: fd, buf: r.slot(i)}
	}
	res := make([]int32, len(ops))
	r.do(ops, res)
	want := []int32{5, -int32(syscall.EAGAIN), 0, -int32(syscall.EBADF)}
	if fmt.Sprint(res) != fmt.Sprint(want) {
		t.Fatalf("reads = %v, want %v", res, want)
	}
	if got := string(r.slot(0)[:5]); got != "hello" {
		t.Fatalf("read %q, want %q", got, "hello")
	}
	path := filepath.Join(t.TempDir(), "log")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.WriteString("before\n")
	copy(r.slot(1), "one\n")
	copy(r.slot(2), "two\n")
	ops = []ringOp{{write: true, fd: int(f.Fd()), buf: r.slot(1)[:4]}, {write: true, fd: int(f.Fd()), buf: r.slot(2)[:4]}}
	r.do(ops, res[:2])
	if res[0] != 4 || res[1] != 4 {
		t.Fatalf("writes = %v, want [4 4]", res[:2])
	}
	if got, _ := os.ReadFile(path); string(got) != "before\none\ntwo\n" && string(got) != "before\ntwo\none\n" {
		t.Fatalf("file holds %q", got)
	}
}

// TestManyPipesKeepOrderThroughRotation: many pipes written at once, so
// that the pollers serve several per wake-up (by the ring where io_uring
// is had), into logs small enough to rotate every few hundred lines, two
// of the pipes sharing one log: every line arrives, each stream's in
// order, and every rotated file is exactly maxbytes. Run without io_uring
// too, by TestOutputPathWithoutIOUring.
func TestManyPipesKeepOrderThroughRotation(t *testing.T) {
	const pipes, lines, burst, maxBytes = 24, 3000, 10, 32 << 10
	const lineLen = len("s00 000000 \n") + 40
	dir := t.TempDir()
	var sinks []*logs.ChildLog
	for i := range pipes - 1 { // the last pipe shares the first one's log
		l, err := logs.OpenChild(logs.ChildConfig{Path: filepath.Join(dir, fmt.Sprintf("p%d.log", i)), MaxBytes: maxBytes, Backups: 1000})
		if err != nil {
			t.Fatal(err)
		}
		sinks = append(sinks, l)
	}
	sinks = append(sinks, sinks[0])
	var wg sync.WaitGroup
	for i := range pipes {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(2)
		pp := &pumpedPipe{r: r, name: fmt.Sprint(i)}
		pp.pump(sinks[i], wg.Done)
		go func() {
			defer wg.Done()
			defer w.Close()
			for n := range lines {
				fmt.Fprintf(w, "s%02d %06d %s\n", i, n, strings.Repeat("x", 40))
				if n%burst == burst-1 {
					time.Sleep(time.Millisecond)
				}
			}
		}()
	}
	t.Logf("output path by io_uring: %v", ring != nil)
	wg.Wait()
	next := map[string]int{}
	for i := range pipes - 1 {
		base := filepath.Join(dir, fmt.Sprintf("p%d.log", i))
		backups, _ := filepath.Glob(base + ".*")
		var all []byte
		for n := len(backups); n >= 0; n-- {
			name := base
			if n > 0 {
				name = fmt.Sprintf("%s.%d", base, n)
			}
			data, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			if n > 0 && len(data) != maxBytes {
				t.Errorf("%s: %d bytes, want exactly %d", name, len(data), maxBytes)
			}
			all = append(all, data...)
		}
		for _, line := range strings.Split(strings.TrimSuffix(string(all), "\n"), "\n") {
			var stream string
			var seq int
			if _, err := fmt.Sscanf(line, "%s %d", &stream, &seq); err != nil || len(line) != lineLen-1 {
				t.Fatalf("%s: line %q", base, line)
			}
			if seq != next[stream] {
				t.Fatalf("%s: stream %s line %d, want %d", base, stream, seq, next[stream])
			}
			next[stream]++
		}
	}
	for i := range pipes {
		if s := fmt.Sprintf("s%02d", i); next[s] != lines {
			t.Errorf("stream %s: %d lines, want %d", s, next[s], lines)
		}
	}
}

// TestOutputPathWithoutIOUring runs the output path's tests again in a
// test process where io_uring is off (DROVER_IO_URING=off), as it is where
// the kernel or a seccomp profile refuses it.
func TestOutputPathWithoutIOUring(t *testing.T) {
	if os.Getenv("DROVER_IO_URING") == "off" {
		t.Skip("this is the run without io_uring")
	}
	tests := "^(TestManyPipesKeepOrderThroughRotation|TestHeldUpSinkLeavesOtherPollers|TestPumpSeesEOFArrivingWithData|TestSpawnBurstNotLost|TestSpawnFloodWaitsForItsSink|TestSpawnPumpPanicEndsOnlyThePump|TestSpawnDrainsLastWordsAtExit)$"
	cmd := exec.Command(os.Args[0], "-test.run", tests, "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), "DROVER_IO_URING=off")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestManyPipesKeepOrderThroughRotation") {
		t.Fatalf("without io_uring: %v\n%s", err, out)
	}
}
