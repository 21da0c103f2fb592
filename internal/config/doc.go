// Package config owns Supervisor 4.2.5's configuration format: locating the
// file, the INI dialect of Python's RawConfigParser, Supervisor's value types,
// %(name)s expansions, [include] handling and the validation that turns a
// file into the typed, immutable Config the daemon and supervisorctl use.
// Error texts follow Supervisor's wording so `Error: <msg>` reads the same.
package config
