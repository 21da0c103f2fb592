// Package e2e holds Drover's end-to-end tests: testscript scripts
// (testdata/*.txtar) that run the real drover entry point as supervisord,
// supervisorctl and drover, with real child processes, and, when Debian's
// supervisor package is installed, drive the daemon with the real Python
// supervisorctl.
//
// Each script gets $SOCK, a short unix socket path in its own directory
// $SOCKDIR; a daemon left running with its pidfile at $WORK/supervisord.pid
// or $SOCKDIR/supervisord.pid is stopped when the script ends. Commands
// beyond testscript's own:
//
//	waitstate NAMESPEC STATE [timeout]   poll getProcessInfo until STATE
//	waitnewpid NAMESPEC OLDPID [timeout] until RUNNING with another pid
//	savepid NAMESPEC|supervisord VAR     set $VAR to a pid (getProcessInfo / getPID)
//	sigpid SIGNAL PID                    send TERM, HUP, USR2, KILL, ... to a pid
//	waitgone PID [timeout]               until the process is gone (or a zombie)
//	[!] waitfile PATH [timeout]          until PATH exists (or, with !, does not)
//	waitmatch REGEXP FILE [timeout]      until FILE has a matching line
//	stalesocket PATH                     leave a unix socket nobody listens on
//	notifysocket FILE                    set $NOTIFY_SOCKET; datagrams go to FILE
//	freeport VAR                         set $VAR to a free 127.0.0.1 TCP port
//	installbin DIR NAME                  copy the drover entry point to DIR/NAME
//	countprocs SUBSTRING N [timeout]     until N live processes' argv contain SUBSTRING
//	killprocs SUBSTRING                  SIGKILL those processes
//	seqlines FILE PREFIX N               lines PREFIX0..PREFIX<N-1> once each, in
//	                                     order, across FILE's backups and FILE
//	mounttmpfs DIR SIZE                  mount a tmpfs on DIR until the script ends
//
// The RPC commands talk to $RPCURL (http://host:port) if set, else to $SOCK,
// with Basic auth from $RPCAUTH ("user:password") if set. Conditions:
// [pysupervisorctl] (Debian's /usr/bin/supervisorctl exists), [root] and
// [tmpfs] (a tmpfs can be mounted).
package e2e
