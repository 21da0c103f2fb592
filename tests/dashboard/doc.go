// Package dashboard holds the end-to-end tests of the live dashboard: the
// real drover binary behind basic auth, a real redis-server for a queue
// pool, and Debian's chromium in headless mode driven over the DevTools
// protocol (chromedp). With DROVER_DASHBOARD_SCREENSHOTS=<dir> it also saves
// the screenshots of docs/.
package dashboard
