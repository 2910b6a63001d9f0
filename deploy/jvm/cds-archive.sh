#!/usr/bin/env bash
# Makes a class-data-sharing (AppCDS) archive for sluice.jar: with it the JVM maps some 5,000
# classes ready-made instead of reading, parsing and verifying them, and Sluice starts to ready in
# about half the CPU time (docs/operations.md, "Start-up time").
#
#   deploy/jvm/cds-archive.sh [JAR [ARCHIVE [MANIFESTS]]]
#   java -XX:SharedArchiveFile=ARCHIVE -jar JAR ...        # then every start, same JAR path, same java
#
# JAR defaults to controller/target/sluice.jar, ARCHIVE to the JAR's path with .jsa, MANIFESTS (what
# the training start serves) to deploy/examples. With JDK_ONLY=1 the archive holds only the JDK's
# own classes that the start loads (no class path recorded): it then works with any class path and
# any JAR, and can be a Java runtime's default archive (lib/server/classes.jsa, mapped without any
# flag), as the image's offline base does (controller/src/image/offline-base.sh). The archive belongs to that java binary and to
# the JAR at that absolute path, with that size and time: rebuild it after either changes. With
# another JAR or java the JVM silently starts without it (-Xlog:cds says why); -Xshare:on makes
# that an error instead.
#
# How: one start of the JAR on free loopback ports with -XX:DumpLoadedClassList until /readyz
# answers 200, one request through the proxy (so the request path is in it too), SIGTERM; then
# java -Xshare:dump over that class list (lambda proxies and lambda forms included, which spares
# the start spinning some 300 classes).
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
jar=$(readlink -f "${1:-$root/controller/target/sluice.jar}")
archive=$(readlink -f "${2:-${jar%.jar}.jsa}")
manifests=$(readlink -f "${3:-$root/deploy/examples}")
java=${JAVA:-java}
[[ -f $jar ]] || { echo "no $jar (mvn -q -DskipTests package builds it)" >&2; exit 1; }
command -v curl >/dev/null || { echo "needs curl" >&2; exit 1; }

work=$(mktemp -d)
pid=
cleanup() {
    if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then kill -9 "$pid"; fi
    rm -rf "$work"
}
trap cleanup EXIT

"$java" -XX:DumpLoadedClassList="$work/classes" -jar "$jar" --manifests "$manifests" \
    --bind-address 127.0.0.1 --http-port 0 --https-port 0 --healthz-port 0 --access-log off \
    --shutdown-grace-period 0s --shutdown-timeout 5s >"$work/log" 2>&1 &
pid=$!
ports=
for _ in $(seq 1 600); do
    ports=$(sed -n 's/.*sluice started.*HTTP port \([0-9]*\), HTTPS port [0-9]*, admin port \([0-9]*\).*/\1 \2/p' "$work/log")
    [[ -n $ports ]] && break
    kill -0 "$pid" 2>/dev/null || { cat "$work/log" >&2; echo "the training start failed" >&2; exit 1; }
    sleep 0.1
done
[[ -n $ports ]] || { cat "$work/log" >&2; echo "the training start did not come up" >&2; exit 1; }
read -r http admin <<< "$ports"
for _ in $(seq 1 600); do
    [[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$admin/readyz") == 200 ]] && break
    sleep 0.1
done
curl -s -o /dev/null "http://127.0.0.1:$http/" || true
kill -TERM "$pid"
wait "$pid" || true
pid=

classpath=(-cp "$jar")
if [[ ${JDK_ONLY:-} == 1 ]]; then
    classpath=() # the list's classes of the JAR are then not found, and left out
fi
dump() {
    rm -f "$archive"
    "$java" -Xshare:dump -XX:SharedClassListFile="$1" -XX:SharedArchiveFile="$archive" \
        -XX:ErrorFile="$work/hs_err_%p.log" "${classpath[@]}" >"$work/dump.log" 2>&1
}
# picocli is compiled for Java 5, so its classes cannot be archived once linked, and JDK 17 crashes
# on a lambda proxy implementing one of its interfaces (the converters Main registers): those
# few stay out. Should another such crash come up, all lambda proxies stay out.
grep -v '^@lambda-proxy.*picocli/' "$work/classes" > "$work/classes.dump"
if ! dump "$work/classes.dump"; then
    grep -v '^@lambda-proxy' "$work/classes" > "$work/classes.dump"
    dump "$work/classes.dump" || { tail -20 "$work/dump.log" >&2; echo "dumping the archive failed" >&2; exit 1; }
fi
"$java" -Xshare:on -XX:SharedArchiveFile="$archive" -jar "$jar" --version >/dev/null \
    || { echo "the archive does not load" >&2; exit 1; }
if [[ ${JDK_ONLY:-} == 1 ]]; then
    echo "$archive: the JDK's classes of $(grep -vc '^@' "$work/classes") loaded by the start"
else
    echo "$archive: $(grep -vc '^@' "$work/classes") classes; start with"
    echo "  $java -XX:SharedArchiveFile=$archive -jar $jar ..."
fi
