package metrics

import (
	"bytes"
	"encoding/binary"
	"os"
	"strconv"
	"sync"
	"syscall"
)

// The daemon's own process metrics: the names, types and meanings of
// client_golang's process collector, which dashboards know. That collector
// cost a scrape about 0.6 ms and 100 KB of garbage with 500 programs: it
// read the whole /proc/stat for the boot time, and named each of the
// daemon's thousands of open descriptors to count them.
var (
	selfCPU       = counterFamily("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.")
	selfOpenFDs   = gaugeFamily("process_open_fds", "Number of open file descriptors.")
	selfMaxFDs    = gaugeFamily("process_max_fds", "Maximum number of open file descriptors.")
	selfVSize     = gaugeFamily("process_virtual_memory_bytes", "Virtual memory size in bytes.")
	selfMaxVSize  = gaugeFamily("process_virtual_memory_max_bytes", "Maximum amount of virtual memory available in bytes.")
	selfRSS       = gaugeFamily("process_resident_memory_bytes", "Resident memory size in bytes.")
	selfStartTime = gaugeFamily("process_start_time_seconds", "Start time of the process since unix epoch in seconds.")
	selfNetIn     = counterFamily("process_network_receive_bytes_total", "Number of bytes received by the process over the network.")
	selfNetOut    = counterFamily("process_network_transmit_bytes_total", "Number of bytes sent by the process over the network.")
)

// userHZ is the unit of the times in /proc/<pid>/stat: 100 on every
// architecture Linux and Go share.
const userHZ = 100

// selfStats reads the daemon's process metrics from procfs.
type selfStats struct {
	mu  sync.Mutex // guards buf
	buf []byte     // one procfs file

	procfs        string
	startTime     float64 // Unix seconds; 0 when procfs did not say
	fdCountInSize bool    // procfs is Linux's, whose fd directories' size may be their count
}

// procfsMagic is the file system type of Linux's procfs (statfs(2)).
const procfsMagic = 0x9fa0

// newSelfStats reads the daemon's start time, which does not change.
func newSelfStats(procfs string) *selfStats {
	s := &selfStats{procfs: procfs, buf: make([]byte, 16<<10)}
	var fs syscall.Statfs_t
	s.fdCountInSize = syscall.Statfs(procfs, &fs) == nil && fs.Type == procfsMagic
	stat, ok := s.stat()
	boot, err := os.ReadFile(procfs + "/stat") // once: it has a line per CPU and interrupt
	if !ok || err != nil {
		return s
	}
	for line := range bytes.Lines(boot) {
		if v, found := bytes.CutPrefix(line, []byte("btime ")); found {
			if btime, err := strconv.ParseFloat(string(bytes.TrimSpace(v)), 64); err == nil {
				s.startTime = btime + stat[starttime]/userHZ
			}
		}
	}
	return s
}

// Fields of /proc/<pid>/stat, counted from 0 after the command name (field
// 3, the state, is 0).
const (
	utime     = 14 - 3
	stime     = 15 - 3
	starttime = 22 - 3
	vsize     = 23 - 3
	rss       = 24 - 3
)

// stat returns the numeric fields of the daemon's /proc/self/stat from the
// state on.
func (s *selfStats) stat() ([]float64, bool) {
	data, ok := s.read("/self/stat")
	end := bytes.LastIndexByte(data, ')')
	if !ok || end < 0 {
		return nil, false
	}
	fields := bytes.Fields(data[end+1:])
	if len(fields) <= rss {
		return nil, false
	}
	values := make([]float64, rss+1)
	for i := 1; i <= rss; i++ { // field 0 is the state, a letter
		v, err := strconv.ParseFloat(string(fields[i]), 64)
		if err != nil {
			return nil, false
		}
		values[i] = v
	}
	return values, true
}

// write writes every process metric it can read; the others are left out.
func (s *selfStats) write(e *exposition) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if stat, ok := s.stat(); ok {
		e.sample(selfCPU, (stat[utime]+stat[stime])/userHZ)
		e.sample(selfVSize, stat[vsize])
		e.sample(selfRSS, stat[rss]*float64(os.Getpagesize()))
	}
	if s.startTime > 0 {
		e.sample(selfStartTime, s.startTime)
	}
	if n, ok := s.openFDs(); ok {
		e.sample(selfOpenFDs, float64(n))
	}
	var lim syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) == nil {
		e.sample(selfMaxFDs, float64(lim.Cur))
	}
	if syscall.Getrlimit(syscall.RLIMIT_AS, &lim) == nil {
		e.sample(selfMaxVSize, float64(lim.Cur))
	}
	if in, out, ok := s.netOctets(); ok {
		e.sample(selfNetIn, in)
		e.sample(selfNetOut, out)
	}
}

// openFDs counts the daemon's open descriptors. Since Linux 6.2 the size
// of /proc/<pid>/fd says how many there are; listing it instead costs
// about 1 µs a descriptor (procfs makes a dentry for each), 2 ms with
// 500 programs. Elsewhere (an older kernel, or not procfs) it is listed,
// the descriptor listing it left out of the count.
func (s *selfStats) openFDs() (int, bool) {
	dir := s.procfs + "/self/fd"
	var st syscall.Stat_t
	if s.fdCountInSize && syscall.Stat(dir, &st) == nil && st.Size > 0 {
		return int(st.Size), true
	}
	fd, err := syscall.Open(dir, syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return 0, false
	}
	defer syscall.Close(fd)
	buf := s.buf
	count := -1 // fd itself
	for {
		n, err := syscall.Getdents(fd, buf)
		if err != nil {
			return 0, false
		}
		if n <= 0 {
			return count, true
		}
		// struct linux_dirent64: ino, off, reclen, type, name.
		for b := buf[:n]; len(b) >= 19; {
			size := int(binary.NativeEndian.Uint16(b[16:]))
			if size < 20 || size > len(b) {
				return 0, false
			}
			if name := b[19:size]; name[0] != '.' {
				count++
			}
			b = b[size:]
		}
	}
}

// netOctets reads the bytes the daemon's network namespace received and
// sent (IpExt's InOctets and OutOctets in /proc/self/net/netstat), as
// client_golang's collector does.
func (s *selfStats) netOctets() (in, out float64, ok bool) {
	data, ok := s.read("/self/net/netstat")
	if !ok {
		return 0, 0, false
	}
	var names [][]byte
	for line := range bytes.Lines(data) {
		fields := bytes.Fields(line)
		if len(fields) == 0 || string(fields[0]) != "IpExt:" {
			continue
		}
		if names == nil {
			names = fields
			continue
		}
		found := 0
		for i := 1; i < len(fields) && i < len(names); i++ {
			v, err := strconv.ParseFloat(string(fields[i]), 64)
			switch {
			case err != nil:
				return 0, 0, false
			case string(names[i]) == "InOctets":
				in, found = v, found+1
			case string(names[i]) == "OutOctets":
				out, found = v, found+1
			}
		}
		return in, out, found == 2
	}
	return 0, 0, false
}

// read reads a file of procfs into s.buf with one read(2): procfs writes
// the whole text at each read, and os.ReadFile's reads of growing pieces
// cost ten times the CPU for /proc/self/net/netstat (0.27 against 0.03
// ms on the benchmark's VM).
func (s *selfStats) read(name string) ([]byte, bool) {
	fd, err := syscall.Open(s.procfs+name, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, false
	}
	defer syscall.Close(fd)
	n, err := syscall.Read(fd, s.buf)
	if err != nil || n <= 0 || n == len(s.buf) {
		return nil, false
	}
	return s.buf[:n], true
}
