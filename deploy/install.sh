#!/usr/bin/env bash
# Install qunguan as services from this checkout: deploy/install.sh NAME... (one name per WeChat
# account, e.g. A). Idempotent: run it again after `git pull` to refresh .venv, gateway/ and
# the units. It never overwrites an environment file in /etc/qunguan.
#
# It makes the system user `qunguan`, .venv (with wechaty and postgres), gateway/node_modules,
# /etc/qunguan/qunguan.env and NAME.env (each account on its own gateway and console ports,
# with a random gateway token), and the units in /etc/systemd/system (pointing at this
# checkout), then reloads systemd. QUNGUAN_INSTALL_ROOT=DIR writes everything under DIR
# instead and skips the user, ownership and systemctl (the tests install so).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="${QUNGUAN_INSTALL_ROOT:-}"
if [ $# -eq 0 ]; then
    echo "usage: deploy/install.sh NAME... (one name per WeChat account, e.g. A)" >&2
    exit 2
fi
for name in "$@"; do
    if ! [[ "$name" =~ ^[A-Za-z0-9_-]+$ ]]; then
        echo "install.sh: account name '$name': use letters, digits, - and _ only" >&2
        exit 2
    fi
done
if [ -z "$DEST" ] && [ "$(id -u)" != 0 ]; then
    echo "install.sh: run it as root (it adds a user, /etc/qunguan and systemd units)" >&2
    exit 2
fi

if [ -z "$DEST" ] && ! id qunguan >/dev/null 2>&1; then
    useradd --system --home-dir /var/lib/qunguan --shell /usr/sbin/nologin qunguan
fi
source "$ROOT/scripts/_venv.sh" "${QUNGUAN_INSTALL_EXTRAS:-wechaty,postgres}"
installed="$ROOT/gateway/node_modules/.package-lock.json"
if [ ! -f "$installed" ] || [ "$ROOT/gateway/package-lock.json" -nt "$installed" ]; then
    (cd "$ROOT/gateway" && npm ci --no-audit --no-fund --loglevel=error)
fi

etc="$DEST/etc/qunguan"
units="$DEST/etc/systemd/system"
install -d -m 0750 "$etc" "$units" "$DEST/var/lib/qunguan/backups"
if [ ! -f "$etc/qunguan.env" ]; then
    install -m 0600 "$ROOT/deploy/qunguan.env" "$etc/qunguan.env"
    echo "wrote $etc/qunguan.env: set QUNGUAN_ADMINS, QUNGUAN_WEB_PASSWORD and QUNGUAN_WEB_SECRET"
fi
for name in "$@"; do
    env="$etc/$name.env"
    if [ -f "$env" ]; then
        echo "kept $env"
        continue
    fi
    # The next ports no other account's file uses: gateway 8788, 8789, ...; console 8080, 8081, ...
    n=$(find "$etc" -maxdepth 1 -name '*.env' ! -name qunguan.env ! -name serve.env | wc -l)
    token=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
    sed -e "s|^WECHATY_PUPPET_SERVICE_TOKEN=.*|WECHATY_PUPPET_SERVICE_TOKEN=$token|" \
        -e "s|^WECHATY_PUPPET_SERVICE_ENDPOINT=.*|WECHATY_PUPPET_SERVICE_ENDPOINT=127.0.0.1:$((8788 + n))|" \
        -e "s|^QUNGUAN_WEB_PORT=.*|QUNGUAN_WEB_PORT=$((8080 + n))|" \
        -e "s|/etc/qunguan/A.env|/etc/qunguan/$name.env|" \
        -e "s|qunguan-gateway@A and qunguan-run@A|qunguan-gateway@$name and qunguan-run@$name|" \
        "$ROOT/deploy/account.env" > "$env"
    chmod 0600 "$env"
    echo "wrote $env: set WECHATY_PUPPET and its WECHATY_PUPPET_TOKEN"
done
for unit in "$ROOT"/deploy/*.service; do
    sed -e "s|/opt/qunguan/|$ROOT/|g" -e "s|/usr/bin/node|$(command -v node)|" "$unit" > "$units/$(basename "$unit")"
done
if [ -z "$DEST" ]; then
    chown -R qunguan:qunguan "$etc" /var/lib/qunguan
    systemctl daemon-reload
fi
echo "installed: systemctl enable --now qunguan-gateway@$1 qunguan-run@$1"
