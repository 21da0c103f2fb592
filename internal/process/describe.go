package process

import (
	"fmt"
	"time"
)

// Description is the text supervisorctl status shows after the state
// (getProcessInfo's description) at time now.
func (info Info) Description(now time.Time) string {
	if info.Waiting != "" && info.State.IsStopped() {
		return info.Waiting
	}
	switch info.State {
	case Running:
		uptime := max(now.Unix()-info.Start.Unix(), 0)
		return fmt.Sprintf("pid %d, uptime %s", info.PID, formatUptime(uptime))
	case Fatal, Backoff:
		if info.SpawnErr != "" {
			return info.SpawnErr
		}
		return fmt.Sprintf("unknown error (try \"tail %s\")", info.Name)
	case Stopped, Exited:
		if info.Start.IsZero() {
			return "Not started"
		}
		stop := time.Unix(0, 0) // a zero stop time is the epoch, as on the wire
		if !info.Stop.IsZero() {
			stop = info.Stop
		}
		return stop.Format("Jan 02 03:04 PM")
	}
	return ""
}

// formatUptime formats seconds like Python's str(timedelta): "2:03:04",
// "1 day, 2:03:04", "3 days, 0:00:05".
func formatUptime(seconds int64) string {
	days, rest := seconds/86400, seconds%86400
	hms := fmt.Sprintf("%d:%02d:%02d", rest/3600, rest%3600/60, rest%60)
	switch days {
	case 0:
		return hms
	case 1:
		return "1 day, " + hms
	}
	return fmt.Sprintf("%d days, %s", days, hms)
}
