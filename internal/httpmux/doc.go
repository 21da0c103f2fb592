// Package httpmux routes the requests of every configured HTTP server
// ([unix_http_server], [inet_http_server]) to the features registered on it
// (the XML-RPC interface, log tails, the status page, metrics, health, the
// dashboard), and applies the server's HTTP Basic authentication once, in
// front of all of them. Unknown paths and refused requests get Supervisor's
// (Medusa's) HTML error page.
package httpmux
