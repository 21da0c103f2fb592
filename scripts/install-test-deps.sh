#!/bin/sh
# Installs, idempotently, what Drover's test suite needs on Debian 12 (as root):
#   supervisor     the reference supervisord/supervisorctl (Python) used as peer and client
#   redis-server   started by queue tests on a free loopback port
#   the Laravel fixture's packages (php-cli php-redis php-sqlite3 php-laravel-framework)
#   dpkg-dev       dpkg-deb for the package build test
#   systemd        systemd-analyze, to verify the unit file
#   procps         /bin/kill, which the unit's ExecReload names (verify checks it exists)
#   gcc libc6-dev  cgo, for the race-detector run of make test
#   chromium       headless browser of the dashboard's end-to-end tests (tests/dashboard)
# Installing a package must not start its service here: we install under a
# policy-rc.d that denies service starts, and stop Debian's supervisord if an
# earlier install started one (it would hold /var/run/supervisor.sock).
set -eu

PACKAGES="supervisor redis-server dpkg-dev procps systemd gcc libc6-dev chromium"
missing=""
for p in $PACKAGES; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
		missing="$missing $p"
	fi
done

if [ -n "$missing" ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "install-test-deps: missing:$missing (run as root to install)" >&2
		exit 1
	fi
	created_policy=""
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
		chmod +x /usr/sbin/policy-rc.d
		created_policy=1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get -o DPkg::Lock::Timeout=600 update -qq
	apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends $missing
	[ -z "$created_policy" ] || rm -f /usr/sbin/policy-rc.d
fi

# Debian's packaged supervisord must not be running as a service during tests.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet supervisor 2>/dev/null; then
	systemctl stop supervisor || true
fi

fixture="$(cd "$(dirname "$0")/.." && pwd)/../shared/fixtures/laravel-app"
if [ -x "$fixture/install.sh" ]; then
	"$fixture/install.sh" >/dev/null
else
	echo "install-test-deps: no Laravel fixture at $fixture; queue-worker tests will be skipped" >&2
fi
