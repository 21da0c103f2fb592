package ctl

import "strings"

// helpTexts are supervisorctl's per-command help texts (help <cmd>).
var helpTexts = map[string]string{
	"add":   "add <name> [...]\tActivates any updates in config for process/group",
	"avail": "avail\t\t\tDisplay all configured processes",
	"clear": "clear <name>\t\tClear a process' log files.\nclear <name> <name>\tClear multiple process' log files\nclear all\t\tClear all process' log files",
	"exit":  "exit\tExit the supervisor shell.",
	"fg":    "fg <process>\tConnect to a process in foreground mode\n\t\tCtrl-C to exit",
	"maintail": "maintail -f \tContinuous tail of supervisor main log file (Ctrl-C to exit)\n" +
		"maintail -100\tlast 100 *bytes* of supervisord main log file\n" +
		"maintail\tlast 1600 *bytes* of supervisor main log file\n",
	"open": "open <url>\tConnect to a remote supervisord process.\n\t\t(for UNIX domain socket, use unix:///socket/path)",
	"pid": "pid\t\t\tGet the PID of supervisord.\npid <name>\t\tGet the PID of a single child process by name.\n" +
		"pid all\t\t\tGet the PID of every child process, one per line.",
	"quit":   "quit\tExit the supervisor shell.",
	"reload": "reload \t\tRestart the remote supervisord.",
	"remove": "remove <name> [...]\tRemoves process/group from active config",
	"reread": "reread \t\t\tReload the daemon's configuration files without add/remove",
	"restart": "restart <name>\t\tRestart a process\nrestart <gname>:*\tRestart all processes in a group\n" +
		"restart <name> <name>\tRestart multiple processes or groups\nrestart all\t\tRestart all processes\n" +
		"Note: restart does not reread config files. For that, see reread and update.",
	"shutdown": "shutdown \tShut the remote supervisord down.",
	"signal": "signal <signal name> <name>\t\tSignal a process\n" +
		"signal <signal name> <gname>:*\t\tSignal all processes in a group\n" +
		"signal <signal name> <name> <name>\tSignal multiple processes or groups\n" +
		"signal <signal name> all\t\tSignal all processes",
	"start": "start <name>\t\tStart a process\nstart <gname>:*\t\tStart all processes in a group\n" +
		"start <name> <name>\tStart multiple processes or groups\nstart all\t\tStart all processes",
	"status": "status <name>\t\tGet status for a single process\nstatus <gname>:*\tGet status for all processes in a group\n" +
		"status <name> <name>\tGet status for multiple named processes\nstatus\t\t\tGet all process status info",
	"stop": "stop <name>\t\tStop a process\nstop <gname>:*\t\tStop all processes in a group\n" +
		"stop <name> <name>\tStop multiple processes or groups\nstop all\t\tStop all processes",
	"tail": "tail [-f] <name> [stdout|stderr] (default stdout)\nEx:\n" +
		"tail -f <name>\t\tContinuous tail of named process stdout\n\t\t\tCtrl-C to exit.\n" +
		"tail -100 <name>\tlast 100 *bytes* of process stdout\ntail <name> stderr\tlast 1600 *bytes* of process stderr",
	"update": "update\t\t\tReload config and add/remove as necessary, and will restart affected programs\n" +
		"update all\t\tReload config and add/remove as necessary, and will restart affected programs\n" +
		"update <gname> [...]\tUpdate specific groups",
	"version": "version\t\t\tShow the version of the remote supervisord process",
}

// topicTable is the output of a bare "help" (Python cmd's print_topics
// layout for the default plugin's commands).
const topicTable = `
default commands (type help <topic>):
=====================================
add    exit      open  reload  restart   start   tail   
avail  fg        pid   remove  shutdown  status  update 
clear  maintail  quit  reread  signal    stop    version
`

func (c *controller) printHelp(cmd string) {
	c.output("%s", helpTexts[cmd])
}

func (c *controller) doHelp(arg string) error {
	topic := strings.TrimSpace(arg)
	switch {
	case topic == "help":
		c.output("help\t\tPrint a list of available actions")
		c.output("help <action>\tPrint help for <action>")
	case topic == "":
		c.output("%s", topicTable)
	case helpTexts[topic] != "":
		c.printHelp(topic)
	default:
		c.output("*** No help on %s", topic)
	}
	return nil
}

// doQuit leaves the interactive shell (quit, exit, EOF); Python prints an
// empty line first.
func (c *controller) doQuit(string) error {
	c.output("")
	return errQuit
}
