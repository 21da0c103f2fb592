// Package redislab runs the Redis topologies beyond one server that the
// fleet's tests need, from Debian's redis-server on loopback ports: a
// master with a replica watched by Redis Sentinel (and a failover on
// demand), and a Redis Cluster of three masters.
package redislab
