// Package fleet runs Drover's fleet membership end to end: a throwaway
// redis-server on a free loopback port and three real drover daemons with
// their own configs, sockets and node names. It checks that every node
// sees every node through `supervisorctl fleet status`, that a SIGKILLed
// node turns stale then gone, and that a restarted Redis is re-joined by
// every node without restarting a worker; fleet actions, rolling across
// the fleet (also with the Laravel fixture's queue workers under a job
// load: capacity kept, every job done once) and fleet_max leases.
package fleet
