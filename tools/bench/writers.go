package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The benchmark's child programs are this same binary, run with one of these
// sub-commands as its first argument.
const (
	cmdWritePattern = "write-pattern"
	cmdChatty       = "chatty"
)

// patternRecord is the unit of the log-throughput stream: 16 hex digits of
// the record's index, filler, newline. Fixed-size records make every byte of
// the stream checkable after rotation has split it across files.
const patternRecord = 4096

// patternChunk is how many bytes the writer hands to one write(2).
const patternChunk = 32 * patternRecord

// fillRecord writes record number seq into r (len patternRecord).
func fillRecord(r []byte, seq uint64) {
	fillSeq(r, seq)
	for i := 16; i < len(r)-1; i++ {
		r[i] = '.'
	}
	r[len(r)-1] = '\n'
}

// writePattern writes n bytes (a multiple of patternRecord) of the pattern to w.
func writePattern(w io.Writer, n int64) error {
	if n%patternRecord != 0 {
		return fmt.Errorf("write pattern: %d is not a multiple of %d", n, patternRecord)
	}
	buf := make([]byte, patternChunk)
	for off := 0; off < len(buf); off += patternRecord {
		fillRecord(buf[off:off+patternRecord], 0)
	}
	var seq uint64
	for n > 0 {
		size := int(min(n, int64(len(buf))))
		for off := 0; off < size; off += patternRecord {
			fillSeq(buf[off:], seq)
			seq++
		}
		if _, err := w.Write(buf[:size]); err != nil {
			return fmt.Errorf("write pattern: %w", err)
		}
		n -= int64(size)
	}
	return nil
}

// fillSeq rewrites only the index of a record already filled.
func fillSeq(r []byte, seq uint64) {
	const hex = "0123456789abcdef"
	for i := 15; i >= 0; i-- {
		r[i] = hex[seq&0xf]
		seq >>= 4
	}
}

// verifyPattern reads the stream from r and returns how many bytes it holds
// and how many of its records differ from the pattern at their position.
func verifyPattern(r io.Reader) (total int64, badRecords int64, err error) {
	want := make([]byte, patternRecord)
	fillRecord(want, 0)
	got := make([]byte, patternRecord)
	br := bufio.NewReaderSize(r, 1<<20)
	for seq := uint64(0); ; seq++ {
		n, err := io.ReadFull(br, got)
		total += int64(n)
		if err == io.EOF {
			return total, badRecords, nil
		}
		if err == io.ErrUnexpectedEOF {
			return total, badRecords + 1, nil
		}
		if err != nil {
			return total, badRecords, fmt.Errorf("verify pattern: %w", err)
		}
		fillSeq(want, seq)
		if !bytes.Equal(got, want) {
			badRecords++
		}
	}
}

// rotatedFiles lists base and its rotated backups base.1, base.2, … oldest
// first, which is the order of the bytes they hold.
func rotatedFiles(base string) ([]string, error) {
	matches, err := filepath.Glob(base + ".*")
	if err != nil {
		return nil, fmt.Errorf("list rotated files: %w", err)
	}
	type backup struct {
		path string
		n    int
	}
	var bs []backup
	for _, m := range matches {
		n, err := strconv.Atoi(strings.TrimPrefix(m, base+"."))
		if err == nil {
			bs = append(bs, backup{m, n})
		}
	}
	slices.SortFunc(bs, func(a, b backup) int { return b.n - a.n })
	var out []string
	for _, b := range bs {
		out = append(out, b.path)
	}
	if _, err := os.Stat(base); err == nil {
		out = append(out, base)
	}
	return out, nil
}

// sizeOnDisk sums the sizes of base and its backups; a file renamed while
// being looked at is skipped, so the caller polls until the sum is stable.
func sizeOnDisk(base string) int64 {
	files, _ := rotatedFiles(base)
	var total int64
	for _, f := range files {
		if fi, err := os.Stat(f); err == nil {
			total += fi.Size()
		}
	}
	return total
}

// verifyRotated checks the pattern across base and its backups.
func verifyRotated(base string) (total, badRecords int64, err error) {
	files, err := rotatedFiles(base)
	if err != nil {
		return 0, 0, err
	}
	var rs []io.Reader
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			return 0, 0, fmt.Errorf("verify pattern: %w", err)
		}
		defer fh.Close()
		rs = append(rs, fh)
	}
	return verifyPattern(io.MultiReader(rs...))
}

// chattyLineLen is the fixed length of a chatty writer's line, newline included.
const chattyLineLen = 64

// chattyLine formats line i of writer name.
func chattyLine(name string, i int) []byte {
	line := fmt.Appendf(nil, "%s %010d ", name, i)
	for len(line) < chattyLineLen-1 {
		line = append(line, '.')
	}
	return append(line[:chattyLineLen-1], '\n')
}

// chatty writes rate*secs lines, waking every tick to write the lines due
// by then: one write(2) each, or with perTick all of them in one. Waking
// per line would cost more CPU than the daemons under test on a small
// machine; see docs/benchmark.md.
func chatty(w io.Writer, name string, rate, secs int, tick time.Duration, perTick bool) error {
	n := rate * secs
	start := time.Now()
	var batch []byte
	for i, k := 0, 1; i < n; k++ {
		if d := time.Until(start.Add(time.Duration(k) * tick)); d > 0 {
			time.Sleep(d)
		}
		due := min(n, int(int64(rate)*int64(time.Duration(k)*tick)/int64(time.Second)))
		for ; i < due; i++ {
			if perTick {
				batch = append(batch, chattyLine(name, i)...)
				continue
			}
			if _, err := w.Write(chattyLine(name, i)); err != nil {
				return fmt.Errorf("chatty write: %w", err)
			}
		}
		if len(batch) > 0 {
			if _, err := w.Write(batch); err != nil {
				return fmt.Errorf("chatty write: %w", err)
			}
			batch = batch[:0]
		}
	}
	return nil
}

// countLines counts newlines in path and its backups.
func countLines(base string) (int64, error) {
	files, err := rotatedFiles(base)
	if err != nil {
		return 0, err
	}
	var n int64
	buf := make([]byte, 1<<20)
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			return 0, fmt.Errorf("count lines: %w", err)
		}
		for {
			k, err := fh.Read(buf)
			n += int64(bytes.Count(buf[:k], []byte{'\n'}))
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				fh.Close()
				return 0, fmt.Errorf("count lines: %w", err)
			}
		}
		fh.Close()
	}
	return n, nil
}

// runChild runs a child sub-command and reports whether args named one.
func runChild(args []string) (bool, error) {
	if len(args) == 0 {
		return false, nil
	}
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	switch args[0] {
	case cmdWritePattern:
		n := fs.Int64("bytes", 0, "bytes to write (a multiple of 4096)")
		if err := fs.Parse(args[1:]); err != nil {
			return true, err
		}
		return true, writePattern(os.Stdout, *n)
	case cmdChatty:
		name := fs.String("name", "w", "name at the start of each line")
		rate := fs.Int("rate", 1000, "lines per second")
		secs := fs.Int("secs", 10, "seconds to write for")
		tick := fs.Duration("tick", 10*time.Millisecond, "how often to wake and write the lines due")
		if err := fs.Parse(args[1:]); err != nil {
			return true, err
		}
		if *tick <= 0 || *rate <= 0 {
			return true, errors.New("chatty: -tick and -rate must be positive")
		}
		runtime.GOMAXPROCS(1) // one thread is plenty and keeps the load generator cheap
		return true, chatty(os.Stdout, *name, *rate, *secs, *tick, false)
	}
	return false, nil
}
