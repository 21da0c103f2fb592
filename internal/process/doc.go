// Package process owns one supervised process each: the state machine of
// Supervisor's §2 (a pure step function), the Runner that carries out its
// actions with exact timers, driven by whichever goroutine posts to it, and
// the real fork/exec Spawner with its output pumps. It knows nothing of
// groups, RPC or log files: output goes to the io.Writers it is given and
// state changes go to the event bus.
package process
