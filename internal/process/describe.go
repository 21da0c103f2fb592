package process

import (
	"strconv"
	"time"
)

// Description is the text supervisorctl status shows after the state
// (getProcessInfo's description) at time now.
func (info Info) Description(now time.Time) string {
	return string(info.AppendDescription(nil, now))
}

// AppendDescription appends Description(now) to dst: getAllProcessInfo
// writes 500 of them per call without a string each.
func (info Info) AppendDescription(dst []byte, now time.Time) []byte {
	if info.Waiting != "" && info.State.IsStopped() {
		return append(dst, info.Waiting...)
	}
	switch info.State {
	case Running:
		dst = append(dst, "pid "...)
		dst = strconv.AppendInt(dst, int64(info.PID), 10)
		dst = append(dst, ", uptime "...)
		return appendUptime(dst, max(now.Unix()-info.Start.Unix(), 0))
	case Fatal, Backoff:
		if info.SpawnErr != "" {
			return append(dst, info.SpawnErr...)
		}
		dst = append(dst, `unknown error (try "tail `...)
		return append(append(dst, info.Name...), `")`...)
	case Stopped, Exited:
		if info.Start.IsZero() {
			return append(dst, "Not started"...)
		}
		stop := time.Unix(0, 0) // a zero stop time is the epoch, as on the wire
		if !info.Stop.IsZero() {
			stop = info.Stop
		}
		return stop.AppendFormat(dst, "Jan 02 03:04 PM")
	}
	return dst
}

// appendUptime appends seconds as Python's str(timedelta) formats them:
// "2:03:04", "1 day, 2:03:04", "3 days, 0:00:05".
func appendUptime(dst []byte, seconds int64) []byte {
	days, rest := seconds/86400, seconds%86400
	switch days {
	case 0:
	case 1:
		dst = append(dst, "1 day, "...)
	default:
		dst = strconv.AppendInt(dst, days, 10)
		dst = append(dst, " days, "...)
	}
	dst = strconv.AppendInt(dst, rest/3600, 10)
	return appendTwoDigits(appendTwoDigits(dst, rest%3600/60), rest%60)
}

// appendTwoDigits appends ":" and n (0–59) in two digits.
func appendTwoDigits(dst []byte, n int64) []byte {
	return append(dst, ':', byte('0'+n/10), byte('0'+n%10))
}
