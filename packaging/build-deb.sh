#!/bin/sh
# Builds dist/drover_<version>_<arch>.deb from a built binary.
#   usage: build-deb.sh BINARY VERSION OUTDIR
set -eu
bin=$1 version=$2 out=$3
here=$(cd "$(dirname "$0")" && pwd)
# Debian versions must start with a digit; an untagged build (a commit hash,
# which may itself start with one) sorts below any release as 0.0~git<hash>.
case "$version" in [0-9]*.*) ;; *) version="0.0~git$(echo "$version" | tr -c 'A-Za-z0-9.+~\n' '.')" ;; esac
arch=$(dpkg --print-architecture)
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT

install -D -m 0755 "$bin" "$root/usr/bin/drover"
ln -s drover "$root/usr/bin/supervisord"
ln -s drover "$root/usr/bin/supervisorctl"
install -D -m 0644 "$here/supervisord.conf" "$root/etc/supervisor/supervisord.conf"
install -d -m 0755 "$root/etc/supervisor/conf.d"
install -d -m 0755 "$root/var/log/supervisor"
install -D -m 0644 "$here/drover.service" "$root/lib/systemd/system/drover.service"
install -d "$root/DEBIAN"
install -m 0755 "$here/postinst" "$here/prerm" "$here/postrm" "$root/DEBIAN/"
echo /etc/supervisor/supervisord.conf > "$root/DEBIAN/conffiles"
size=$(du -sk "$root" | cut -f1)
cat > "$root/DEBIAN/control" <<CONTROL
Package: drover
Version: $version
Architecture: $arch
Maintainer: Drover developers <drover@localhost>
Installed-Size: $size
Section: admin
Priority: optional
Provides: supervisor
Conflicts: supervisor
Replaces: supervisor
Homepage: https://github.com/drover/drover
Description: process supervisor compatible with Supervisor (supervisord)
 Drover runs the same configuration files, supervisorctl commands and
 XML-RPC API as Supervisor, as one static binary, and adds queue-aware
 worker pools, rolling restarts and readiness checks.
CONTROL
mkdir -p "$out"
deb="$out/drover_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "$deb"
