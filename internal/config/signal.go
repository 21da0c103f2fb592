package config

import "syscall"

// ParseSignal parses a signal as Supervisor's signal_number does: a number
// or a name with or without the SIG prefix (signalProcess uses it too).
func ParseSignal(s string) (syscall.Signal, error) { return parseSignal(s) }
