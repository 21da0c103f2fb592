// Package config owns Supervisor 4.2.5's configuration format: locating the
// file (FindConfigFile), the INI dialect of Python's RawConfigParser,
// Supervisor's value types, %(name)s expansions with their scopes and
// double-expansion quirks, [include] handling, and the validation that turns
// a file into the typed, immutable Config the daemon uses (Load) or the
// [supervisorctl] settings the client uses (LoadCtl).
//
// Errors are *Error: Msg carries Supervisor's wording, SupervisorText is the
// exact text supervisord prints after "Error: ", and Error() appends the
// file, line, section and option. Tests compare the parser with Python's
// supervisor package when it is installed.
package config
