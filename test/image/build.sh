#!/usr/bin/env bash
# Builds the project's real Dockerfile into seamark:test on a machine that
# cannot pull the official Node image: a stand-in base is made from this
# host's own node and npm, their shared libraries, Debian's static busybox (the
# shell and tools a Node image has) and the certificate authorities npm on
# this host trusts, loaded with `docker import`. Everything machine-specific
# stays in the stand-in; the Dockerfile is built as it is, with
# --build-arg NODE_IMAGE=<stand-in>.
#   bash test/image/build.sh [tag]        (default seamark:test)
set -euo pipefail
cd "$(dirname "$0")/../.."
tag=${1:-seamark:test}
base=seamark-test-node-base:latest

node=$(readlink -f "$(command -v node)")
npm_root=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")   # …/node_modules/npm
busybox=$(command -v busybox)
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT

mkdir -p "$root/bin" "$root/usr/bin" "$root/usr/local/bin" "$root/usr/local/lib/node_modules" "$root/etc/ssl/certs" "$root/root" "$root/tmp"
chmod 1777 "$root/tmp"
cp "$busybox" "$root/bin/busybox"
for applet in $("$root/bin/busybox" --list); do
  [ "$applet" = busybox ] || ln -sf /bin/busybox "$root/bin/$applet"
done
ln -sf /bin/busybox "$root/usr/bin/env"

# node and every shared library it loads, at the paths the dynamic loader looks for them.
cp "$node" "$root/usr/local/bin/node"
for lib in $(ldd "$node" | grep -o '/[^ ]*'); do
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
done
cp -a "$npm_root" "$root/usr/local/lib/node_modules/npm"
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"

# The certificate authorities of this host: the system store, npm's cafile and NODE_EXTRA_CA_CERTS.
cafile=$(npm config get cafile 2>/dev/null | grep -v '^null$' || true)
bundle=/etc/ssl/certs/ca-certificates.crt
[ -f "$bundle" ] && cp -L "$bundle" "$root$bundle"
changes=(-c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' -c 'ENV HOME=/root' -c 'CMD ["node"]')
for ca in "$cafile" "${NODE_EXTRA_CA_CERTS:-}"; do
  [ -n "$ca" ] && [ -f "$ca" ] || continue
  mkdir -p "$root$(dirname "$ca")"
  cp -L "$ca" "$root$ca"
done
[ -n "$cafile" ] && [ -f "$cafile" ] && changes+=(-c "ENV NPM_CONFIG_CAFILE=$cafile")
if [ -n "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f "$NODE_EXTRA_CA_CERTS" ]; then
  changes+=(-c "ENV NODE_EXTRA_CA_CERTS=$NODE_EXTRA_CA_CERTS")
elif [ -f "$bundle" ]; then
  changes+=(-c "ENV NODE_EXTRA_CA_CERTS=$bundle")
fi

printf 'root:x:0:0:root:/root:/bin/sh\nnode:x:1000:1000:node:/home/node:/bin/sh\n' > "$root/etc/passwd"
printf 'root:x:0:\nnode:x:1000:\n' > "$root/etc/group"
echo 'hosts: files dns' > "$root/etc/nsswitch.conf"

tar -C "$root" -c . | docker import "${changes[@]}" - "$base" >/dev/null
# The stand-in must run node, or the build below would fail in a less telling way.
version=$(docker run --rm "$base" node --version)
echo "built the stand-in base $base (node $version)"

# --network host: npm ci inside the build reaches the registry the way npm on this host does.
docker build --network host --build-arg NODE_IMAGE="$base" -t "$tag" . >&2
echo "built $tag"
