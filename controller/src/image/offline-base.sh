#!/usr/bin/env bash
# Builds the offline base image of `mvn -Pimage -Dimage.base=offline package` (docs/operations.md):
# a Java runtime made with jlink from the build JDK, holding the modules Sluice needs (jdeps of
# the fat jar, plus the providers jdeps cannot see), the shared libraries that runtime and Netty's
# native transports load (found with ldd, copied from this machine), a passwd entry for the
# non-root user 10001 and an empty /tmp. Written as a `docker save` tarball, which Jib takes as a
# base with `tar://`, so no registry is contacted.
#
# usage: offline-base.sh FAT_JAR OUTPUT_DIR
set -euo pipefail
jar=$(readlink -f "$1") out=$(mkdir -p "$2" && readlink -f "$2")
java_home=${JAVA_HOME:-$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")}
root=$out/rootfs
rm -rf "$out" && mkdir -p "$root" "$out/natives"
natives=$(readlink -f "$out/natives")
(cd "$natives" && "$java_home/bin/jar" xf "$jar" META-INF/native)

# Modules: what the classes use, plus service providers loaded by name at run time (EC and
# other TLS key exchanges, DNS through JNDI).
modules=$("$java_home/bin/jdeps" --print-module-deps --ignore-missing-deps --multi-release 17 "$jar")
modules="$modules,jdk.crypto.ec,jdk.crypto.cryptoki,jdk.naming.dns"
echo "offline base: jlink $modules" >&2
"$java_home/bin/jlink" --add-modules "$modules" --strip-debug --no-man-pages --no-header-files \
    --compress=2 --output "$root/opt/java/openjdk"

# Class-data sharing: jlink (before JDK 18) leaves out the JDK's default archive, so the image's
# JVM would read, parse and verify every JDK class at each start. Instead the runtime gets a
# default archive (mapped without any flag) of the JDK classes a start of Sluice loads, made by
# this runtime's own java from a training start of the fat jar: the image starts to ready in about
# 0.7 of the CPU time it takes without one (docs/operations.md, "Start-up time"). Sluice's own
# classes stay out: an archive of them holds only for the exact class path it was made with.
JAVA="$root/opt/java/openjdk/bin/java" JDK_ONLY=1 "$(dirname "$0")/../../../deploy/jvm/cds-archive.sh" \
    "$jar" "$root/opt/java/openjdk/lib/server/classes.jsa" >&2

# Shared libraries: those of the runtime and of Netty's native transports (extracted from the
# fat jar), and the ones glibc opens by name (name service, thread cancellation). The desktop
# libraries (X11, sound, fonts) are left out: Sluice runs headless.
# merged /usr on Debian: /lib and /lib64 are symlinks into /usr, in the image as on this machine
for d in lib lib64; do
    if [ -L "/$d" ]; then ln -s "$(readlink "/$d" | sed 's|^/||')" "$root/$d"; mkdir -p "$root/usr/$d"; fi
done
libs() {
    ldd "$@" 2>/dev/null | awk '/=>/ && $3 ~ /^\// {print $3} /^[ \t]*\/[^ ]+ \(0x/ {print $1}'
}
mapfile -t objects < <(find "$root/opt/java/openjdk" "$natives" -type f \( -name '*.so' -o -path '*/bin/*' \) \
    | grep -Ev '/lib(awt_xawt|splashscreen|jsound|fontmanager|lcms|javajpeg|mlib_image)\.so$')
extra=()
for name in libgcc_s.so.1 libnss_files.so.2 libnss_dns.so.2 libresolv.so.2; do
    p=$(ldconfig -p | awk -v n="$name" '$1 == n && /x86-64/ {print $NF; exit}')
    if [ -n "$p" ]; then extra+=("$p"); fi
done
for lib in $( (libs "${objects[@]}"; libs "${extra[@]}"; printf '%s\n' "${extra[@]}") | grep -v "^$root" | sort -u); do
    for path in "$lib" "$(readlink -f "$lib")"; do
        mkdir -p "$root$(dirname "$path")"
        cp -P "$path" "$root$path"
    done
done

mkdir -p "$root/etc" "$root/tmp" "$root/proc" "$root/dev" "$root/sys"
chmod 1777 "$root/tmp"
printf 'root:x:0:0:root:/root:/sbin/nologin\nsluice:x:10001:10001:sluice:/tmp:/sbin/nologin\n' > "$root/etc/passwd"
printf 'root:x:0:\nsluice:x:10001:\n' > "$root/etc/group"
printf 'hosts: files dns\n' > "$root/etc/nsswitch.conf"

# One layer, reproducible (sorted, epoch times, root-owned), and the docker-save wrapping.
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$root" -cf "$out/layer.tar" .
diff_id=$(sha256sum "$out/layer.tar" | cut -d' ' -f1)
cat > "$out/config.json" <<JSON
{"architecture":"amd64","os":"linux","created":"1970-01-01T00:00:00Z",
 "config":{"Env":["PATH=/opt/java/openjdk/bin:/usr/bin:/bin","JAVA_HOME=/opt/java/openjdk","LANG=C.UTF-8"],
           "User":"10001:10001","WorkingDir":"/tmp"},
 "rootfs":{"type":"layers","diff_ids":["sha256:$diff_id"]},
 "history":[{"created":"1970-01-01T00:00:00Z","created_by":"offline-base.sh: jlink runtime and its shared libraries"}]}
JSON
echo '[{"Config":"config.json","RepoTags":["localhost/sluice-base:offline"],"Layers":["layer.tar"]}]' > "$out/manifest.json"
tar --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$out" -cf "$out/sluice-base.tar" manifest.json config.json layer.tar
rm -rf "$out/layer.tar" "$natives"
echo "offline base: $out/sluice-base.tar ($(du -h "$out/sluice-base.tar" | cut -f1))" >&2
