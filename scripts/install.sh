#!/usr/bin/env bash
# Installs libamlis for C and C++ programs:
#
#   INCLUDEDIR/amlis.h
#   LIBDIR/libamlis.so.N               the shared library, soname libamlis.so.N (N = AMLIS_ABI_VERSION)
#   LIBDIR/libamlis.so -> libamlis.so.N   the name `-lamlis` finds
#                                      (without patchelf: LIBDIR/libamlis.so alone, no soname)
#   LIBDIR/libamlis.a                  the static library
#   LIBDIR/libamlis_static.a -> libamlis.a   the name `-lamlis_static` finds (no .so has it)
#   LIBDIR/pkgconfig/amlis.pc          shared:  cc app.c $(pkg-config --cflags --libs amlis)
#   LIBDIR/pkgconfig/amlis-static.pc   static:  cc app.c $(pkg-config --cflags --libs amlis-static)
#
# Usage: scripts/install.sh [--prefix DIR] [--libdir DIR] [--includedir DIR] [--from DIR]
#
#   --prefix DIR      install under DIR (default /usr/local)
#   --libdir DIR      libraries and pkgconfig/ (default PREFIX/lib)
#   --includedir DIR  the header (default PREFIX/include)
#   --from DIR        install libamlis.so and libamlis.a already built in DIR (for example
#                     target/release, or target/debug/deps after `cargo test`) instead of
#                     building them with `cargo build --release --lib`
#   DESTDIR=DIR       (environment) staged install for packaging: files go under DESTDIR,
#                     the .pc files name the final PREFIX
#
# The soname: cargo links libamlis.so without one (a soname in target/release/libamlis.so
# would make programs linked there look for a libamlis.so.N that is not there), so the
# installed copy gets it from `patchelf --set-soname` (Debian: apt-get install patchelf).
# Without patchelf the library is installed as plain libamlis.so, which programs then record
# by that name. (Linking with `-C link-arg=-Wl,-soname,...` instead would change the build's
# fingerprint, and every later plain `cargo build --release` would compile amlis again.)
#
# Why two .pc files: with libamlis.so and libamlis.a side by side in LIBDIR, the linker
# resolves `-lamlis` to the .so, so `pkg-config --static --libs amlis` (which only adds
# Libs.private) still links libamlis dynamically, and a .pc file cannot say "other Libs when
# static". amlis-static.pc gives `-L${libdir} -lamlis_static` and the system libraries a Rust
# static library needs: only an archive answers to that name, so the link is static with any
# linker, and CMake's pkg_check_modules(... IMPORTED_TARGET amlis-static) resolves it to the
# archive's path and keeps it after the program's objects (a bare archive path in Libs would
# be put before them, and `-l:libamlis.a` is GNU-only and loses its -L in CMake). The system
# libraries are what rustc prints for a static library (`--print native-static-libs`); amlis
# links no native library of its own (all its dependencies are pure Rust), so the standard
# library's list, taken from an empty static library here, is amlis's list.
set -euo pipefail

usage() {
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'
}

die() {
    echo "install.sh: $*" >&2
    exit 1
}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PREFIX=/usr/local
LIBDIR=
INCLUDEDIR=
FROM=

while [ $# -gt 0 ]; do
    case $1 in
    --prefix) [ $# -ge 2 ] || die "--prefix needs a directory"; PREFIX=$2; shift 2 ;;
    --prefix=*) PREFIX=${1#*=}; shift ;;
    --libdir) [ $# -ge 2 ] || die "--libdir needs a directory"; LIBDIR=$2; shift 2 ;;
    --libdir=*) LIBDIR=${1#*=}; shift ;;
    --includedir) [ $# -ge 2 ] || die "--includedir needs a directory"; INCLUDEDIR=$2; shift 2 ;;
    --includedir=*) INCLUDEDIR=${1#*=}; shift ;;
    --from) [ $# -ge 2 ] || die "--from needs a directory"; FROM=$2; shift 2 ;;
    --from=*) FROM=${1#*=}; shift ;;
    -h | --help) usage; exit 0 ;;
    *) die "unknown argument: $1 (see --help)" ;;
    esac
done

# Absolute paths: the .pc files must not depend on where they are read from.
case $PREFIX in /*) ;; *) PREFIX=$PWD/$PREFIX ;; esac
LIBDIR=${LIBDIR:-$PREFIX/lib}
INCLUDEDIR=${INCLUDEDIR:-$PREFIX/include}
case $LIBDIR in /*) ;; *) LIBDIR=$PWD/$LIBDIR ;; esac
case $INCLUDEDIR in /*) ;; *) INCLUDEDIR=$PWD/$INCLUDEDIR ;; esac
DESTDIR=${DESTDIR:-}

VERSION=$(sed -n 's/^version = "\([^"]*\)".*/\1/p' "$ROOT/Cargo.toml" | head -n 1)
[ -n "$VERSION" ] || die "no version in $ROOT/Cargo.toml"
ABI=$(sed -n 's/^#define AMLIS_ABI_VERSION \([0-9][0-9]*\).*/\1/p' "$ROOT/include/amlis.h")
[ -n "$ABI" ] || die "no AMLIS_ABI_VERSION in $ROOT/include/amlis.h"
SONAME=libamlis.so.$ABI

if [ -z "$FROM" ]; then
    (cd "$ROOT" && cargo build --release --lib)
    FROM=$(cd "$ROOT" && cargo metadata --format-version 1 --no-deps |
        sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')/release
fi
[ -f "$FROM/libamlis.so" ] || die "$FROM/libamlis.so does not exist (build it, or fix --from)"
[ -f "$FROM/libamlis.a" ] || die "$FROM/libamlis.a does not exist (build it, or fix --from)"

# The system libraries a static link needs (see the top of this file).
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
: >"$TMP/empty.rs"
(cd "$ROOT" && "${RUSTC:-rustc}" --crate-type staticlib --print native-static-libs \
    -o "$TMP/libempty.a" "$TMP/empty.rs") >"$TMP/rustc.out" 2>&1 ||
    die "rustc failed: $(cat "$TMP/rustc.out")"
NATIVE_STATIC_LIBS=$(sed -n 's/.*native-static-libs: *//p' "$TMP/rustc.out" | head -n 1)
[ -n "$NATIVE_STATIC_LIBS" ] || die "no native-static-libs line in: $(cat "$TMP/rustc.out")"

# The soname the shared library was linked with, if any (then it is kept).
BUILT_SONAME=
if command -v readelf >/dev/null 2>&1; then
    BUILT_SONAME=$(readelf -d "$FROM/libamlis.so" | sed -n 's/.*Library soname: \[\(.*\)\].*/\1/p')
fi

install -d "$DESTDIR$INCLUDEDIR" "$DESTDIR$LIBDIR/pkgconfig"
install -m 644 "$ROOT/include/amlis.h" "$DESTDIR$INCLUDEDIR/amlis.h"
install -m 644 "$FROM/libamlis.a" "$DESTDIR$LIBDIR/libamlis.a"
rm -f "$DESTDIR$LIBDIR/libamlis.so" "$DESTDIR$LIBDIR/$SONAME" "$DESTDIR$LIBDIR/libamlis_static.a"
ln -s libamlis.a "$DESTDIR$LIBDIR/libamlis_static.a"
if [ -z "$BUILT_SONAME" ] && command -v patchelf >/dev/null 2>&1; then
    install -m 755 "$FROM/libamlis.so" "$DESTDIR$LIBDIR/$SONAME"
    patchelf --set-soname "$SONAME" "$DESTDIR$LIBDIR/$SONAME"
    BUILT_SONAME=$SONAME
elif [ -n "$BUILT_SONAME" ]; then
    install -m 755 "$FROM/libamlis.so" "$DESTDIR$LIBDIR/$BUILT_SONAME"
fi
if [ -n "$BUILT_SONAME" ]; then
    ln -s "$BUILT_SONAME" "$DESTDIR$LIBDIR/libamlis.so"
    SHARED_NOTE="$BUILT_SONAME (soname $BUILT_SONAME) and the link libamlis.so"
else
    install -m 755 "$FROM/libamlis.so" "$DESTDIR$LIBDIR/libamlis.so"
    SHARED_NOTE="libamlis.so (no soname: patchelf is not installed)"
fi

# Fills amlis.pc.in; sed replacement text needs |, & and \ escaped.
escape() { printf '%s' "$1" | sed 's/[|&\\]/\\&/g'; }
sed -e "s|@PREFIX@|$(escape "$PREFIX")|g" \
    -e "s|@LIBDIR@|$(escape "$LIBDIR")|g" \
    -e "s|@INCLUDEDIR@|$(escape "$INCLUDEDIR")|g" \
    -e "s|@VERSION@|$(escape "$VERSION")|g" \
    -e "s|@NATIVE_STATIC_LIBS@|$(escape "$NATIVE_STATIC_LIBS")|g" \
    -e '/^#/d' \
    "$ROOT/amlis.pc.in" >"$DESTDIR$LIBDIR/pkgconfig/amlis.pc"
# The static variant: -lamlis_static, a name only the archive answers to (see the top).
{
    sed -n '/^prefix=/,/^$/p' "$DESTDIR$LIBDIR/pkgconfig/amlis.pc"
    echo "Name: amlis-static"
    echo "Description: libamlis linked statically (the archive and the system libraries it needs)"
    echo "Version: $VERSION"
    echo "Cflags: -I\${includedir}"
    echo "Libs: -L\${libdir} -lamlis_static $NATIVE_STATIC_LIBS"
} >"$DESTDIR$LIBDIR/pkgconfig/amlis-static.pc"

echo "installed amlis $VERSION (ABI $ABI) into $DESTDIR$PREFIX:"
echo "  $INCLUDEDIR/amlis.h"
echo "  $LIBDIR/$SHARED_NOTE"
echo "  $LIBDIR/libamlis.a and the link libamlis_static.a"
echo "  $LIBDIR/pkgconfig/amlis.pc         pkg-config --cflags --libs amlis"
echo "  $LIBDIR/pkgconfig/amlis-static.pc  pkg-config --cflags --libs amlis-static"
PC_PATH=$(pkg-config --variable pc_path pkg-config 2>/dev/null || true)
case ":${PKG_CONFIG_PATH:-}:$PC_PATH:" in
*":$LIBDIR/pkgconfig:"*) ;;
*) echo "pkg-config finds them with: export PKG_CONFIG_PATH=$LIBDIR/pkgconfig" ;;
esac
echo "a program linked shared finds the library at run time through -Wl,-rpath,$LIBDIR or"
echo "LD_LIBRARY_PATH=$LIBDIR (in a system library folder: run ldconfig once)"
