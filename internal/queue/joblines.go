package queue

import "bytes"

// JobLine is what one line of a Laravel queue:work worker's output says
// about its jobs.
type JobLine int

const (
	NotAJobLine JobLine = iota
	JobStarted          // "[time][id] Processing: Class"
	JobDone             // "... Processed: Class"
	JobFailed           // "... Failed: Class"
)

// JobLineHead bounds how much of a line ParseJobLine needs: the markers
// come right after the timestamp and job id.
const JobLineHead = 256

var (
	markStart  = []byte("] Processing: ")
	markDone   = []byte("] Processed: ")
	markFailed = []byte("] Failed: ")
)

// ParseJobLine tells the job lines queue:work prints around each job from
// other output. line is the start of one line, without its newline.
func ParseJobLine(line []byte) JobLine {
	switch {
	case bytes.Contains(line, markStart):
		return JobStarted
	case bytes.Contains(line, markDone):
		return JobDone
	case bytes.Contains(line, markFailed):
		return JobFailed
	}
	return NotAJobLine
}
