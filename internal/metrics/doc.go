// Package metrics serves /metrics in Prometheus's text format: the daemon's
// processes, pools, queues and job counts, read from one supervisor
// Snapshot per scrape (the process engine is never waited on), the
// resident memory and CPU time of each process tree from one reading of
// /proc (shared with the dashboard), node_exporter's old supervisord
// metrics so existing dashboards keep working, and the daemon's own Go
// runtime and process metrics. Drover's own series and the process ones
// are written straight into the text format, in chunks as the answer goes
// out, as are the Go runtime ones (client_golang's names, not its code).
package metrics
