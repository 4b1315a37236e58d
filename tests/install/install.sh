#!/usr/bin/env bash
# install.sh — `cmake --install` into a temporary DESTDIR, then use what was installed as a
# user would: the files are where GNUInstallDirs puts them; pkg-config finds qinval.pc and
# gives flags with which a small program compiles, links against libqinval and runs; the
# installed command runs and reads the installed scenario catalog (not the source tree's);
# the man page renders without warnings.
# Usage: install.sh BUILD_DIR PREFIX CC SANITIZE(ON|OFF)
set -u
build=${1:?usage: install.sh BUILD_DIR PREFIX CC SANITIZE}
prefix=$2 cc=$3 sanitize=${4:-OFF}
src=$(cd "$(dirname "$0")/../.." && pwd)
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
fail=0
bad() { echo "FAIL $*"; fail=1; }

DESTDIR=$dest cmake --install "$build" >"$dest/install.log" 2>&1 || { cat "$dest/install.log"; exit 1; }
root=$dest$prefix
pc=$(find "$root" -name qinval.pc)
[ -n "$pc" ] || { echo "FAIL no qinval.pc installed"; exit 1; }
libdir=$(dirname "$(dirname "$pc")")
for f in bin/qinval include/qinval/engine.h include/qinval/platform.h include/qinval/vtd.h \
    include/qinval/version.h share/man/man1/qinval.1 share/qinval/scenarios/smoke.scn; do
    [ -e "$root/$f" ] || bad "not installed: $f"
done
[ -e "$libdir/libqinval.a" ] || bad "not installed: libqinval.a in $libdir"
grep -q "^prefix=$prefix\$" "$pc" || bad "qinval.pc names another prefix: $(grep ^prefix= "$pc")"

# pkg-config, with the staging directory as the sysroot
flags=$(PKG_CONFIG_PATH=$(dirname "$pc") PKG_CONFIG_SYSROOT_DIR=$dest pkg-config --cflags --libs qinval) ||
    bad "pkg-config does not know qinval"
echo "$flags" | grep -q -- "-I$root/include" || bad "pkg-config cflags: $flags"
echo "$flags" | grep -q -- "-lqinval" || bad "pkg-config libs: $flags"
san=""
[ "$sanitize" = ON ] && san="-fsanitize=address,undefined"
# shellcheck disable=SC2086
"$cc" -std=c11 -Wall -Werror $san "$src/tests/install/tiny.c" "$src/tests/freestanding/plat_stubs.c" \
    $flags -o "$dest/tiny" || bad "a program does not build against the installed library"
[ -x "$dest/tiny" ] && { "$dest/tiny" >"$dest/tiny.out" || bad "the program failed: $(cat "$dest/tiny.out")"; }

# the kernel harness is installed beside the catalog
for f in share/qinval/harness/linux/lkh_glue.c share/qinval/harness/linux/lkh_abi.h \
    share/qinval/harness/linux/shim/lkh_shim.h; do
    [ -e "$root/$f" ] || bad "not installed: $f"
done

# the installed command and its catalog
"$root/bin/qinval" --version | grep -q '^qinval [0-9]' || bad "installed qinval --version"
cp "$root/share/qinval/scenarios/smoke.scn" "$root/share/qinval/scenarios/only-installed.scn"
(unset QINVAL_SCENARIOS; "$root/bin/qinval" list scenarios) | grep -q '^only-installed ' ||
    bad "the installed qinval does not read the installed catalog"
(unset QINVAL_SCENARIOS; cd "$dest" && "$root/bin/qinval" check --driver qinval --scenario only-installed \
    --executions 3 >/dev/null) || bad "the installed qinval cannot check"

# --driver kernel from the installed binary uses the installed harness and caches in the
# user's cache directory: a marker that breaks the installed glue must break the build, and
# without it a check passes with its harness built under XDG_CACHE_HOME. Needs a kernel tree:
# one the build directory already extracted (tests/kernel), so no tarball is unpacked again.
dmar=$(find "$build/lkh" -maxdepth 5 -path '*/drivers/iommu/intel/dmar.c' 2>/dev/null | head -1)
tree=${dmar%/drivers/iommu/intel/dmar.c}
if [ -f "$tree/drivers/iommu/intel/dmar.c" ]; then
    glue=$root/share/qinval/harness/linux/lkh_glue.c
    kcheck() {
        (unset QINVAL_LKH_DIR QINVAL_LKH_CACHE QINVAL_SCENARIOS QINVAL_KSRC
            cd "$dest" && XDG_CACHE_HOME=$dest/cache "$root/bin/qinval" check --driver kernel \
                --scenario only-installed --set "ksrc=$tree" --executions 3 2>&1)
    }
    cp "$glue" "$dest/glue.orig"
    echo '#error installed-harness-marker' >>"$glue"
    out=$(kcheck)
    rc=$?
    [ $rc = 2 ] && echo "$out" | grep -q 'installed-harness-marker' ||
        bad "the installed qinval did not build the installed harness (exit $rc): $out"
    cp "$dest/glue.orig" "$glue"
    out=$(kcheck)
    rc=$?
    [ $rc = 0 ] || bad "the installed qinval's kernel driver (exit $rc): $out"
    ls "$dest"/cache/qinval/lkh/kernel-*.so >/dev/null 2>&1 ||
        bad "no harness built under XDG_CACHE_HOME/qinval/lkh"
else
    echo "install: no extracted kernel tree in $build/lkh: the installed kernel harness is not exercised"
fi

# the man page
if command -v groff >/dev/null; then
    warn=$(groff -man -Tutf8 -ww -z "$root/share/man/man1/qinval.1" 2>&1)
    [ -z "$warn" ] || bad "groff warns: $warn"
fi
if command -v man >/dev/null; then
    out=$(MANWIDTH=80 man --warnings -l "$root/share/man/man1/qinval.1" 2>&1 >/dev/null)
    [ -z "$out" ] || bad "man warns: $out"
    MANWIDTH=80 man -l "$root/share/man/man1/qinval.1" 2>/dev/null | grep -q 'EXIT STATUS' ||
        bad "man does not render the page"
fi
[ $fail = 0 ] && echo "install: ok"
exit $fail
