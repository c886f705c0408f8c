# sandlink: `just run` shows the demo, `just test` runs every test. Both set up what they need.
set shell := ["bash", "-euo", "pipefail", "-c"]

wasm_tools_version := "1.263.0"
venv := ".venv"
python := venv / "bin/python"
artifacts := "host_py/sandlink/_artifacts"
wasm_target := "wasm32-unknown-unknown"
wasi_target := "wasm32-wasip2"

default: run

# Venv with the pinned Python packages, the wasm32 targets and the pinned wasm-tools (idempotent).
setup:
    rustup target add {{wasm_target}} >/dev/null
    rustup target add {{wasi_target}} >/dev/null
    if [ "$(wasm-tools --version 2>/dev/null | cut -d' ' -f2)" != "{{wasm_tools_version}}" ]; then \
        cargo install --locked --quiet wasm-tools@{{wasm_tools_version}}; fi
    [ -x {{python}} ] || python3 -m venv {{venv}}
    # pip only when what it installs changed since the last install (a stamp in the venv).
    spec='host_py[test,dev]'; want=$(echo "$spec" | cat - host_py/pyproject.toml | sha256sum); \
    if [ "$(cat {{venv}}/.sandlink-setup 2>/dev/null)" != "$want" ]; then \
        {{python}} -m pip install --quiet --disable-pip-version-check -e "$spec" && \
        echo "$want" > {{venv}}/.sandlink-setup; fi

# The one portable component: target/sandlink.wasm, also copied where the package finds it.
build-wasm:
    cargo build --release --locked --target {{wasm_target}} -p sandlink
    wasm-tools component new target/{{wasm_target}}/release/sandlink.wasm -o target/sandlink.wasm
    wasm-tools validate --features component-model target/sandlink.wasm
    mkdir -p {{artifacts}} && cp target/sandlink.wasm {{artifacts}}/

# The same kernels as a cdylib for ctypes.
build-native:
    cargo build --release --locked -p sandlink
    mkdir -p {{artifacts}} && cp target/release/libsandlink.so {{artifacts}}/

# The compiled call path: the `sandlink.host._accel` extension (PyO3, stable ABI).
build-accel:
    cargo build --profile accel --locked -p sandlink-accel
    cp target/accel/lib_accel.so host_py/sandlink/host/_accel.abi3.so

build: build-wasm build-native build-accel

# Test-only components: target/<name>.wasm. host_py/tests/guests/* build for {{wasm_target}}
# (no WASI imports) and are wrapped by `wasm-tools component new`; host_py/tests/wasi_guests/*
# build for {{wasi_target}}, for which rustc links a component importing WASI 0.2 itself;
# host_py/tests/py_guests/* are Python (app.py), built by componentize-py.
build-test-guests: setup
    for guest in host_py/tests/guests/*/; do \
        name=$(basename "$guest"); \
        cargo build --release --locked --target {{wasm_target}} -p "$name"; \
        wasm-tools component new "target/{{wasm_target}}/release/$name.wasm" -o "target/$name.wasm"; \
        wasm-tools validate --features component-model "target/$name.wasm"; \
    done
    for guest in host_py/tests/wasi_guests/*/; do \
        name=$(basename "$guest"); \
        cargo build --release --locked --target {{wasi_target}} -p "$name"; \
        cp "target/{{wasi_target}}/release/$name.wasm" "target/$name.wasm"; \
        wasm-tools validate --features component-model "target/$name.wasm"; \
    done
    for guest in host_py/tests/py_guests/*/; do \
        name=$(basename "$guest"); \
        {{venv}}/bin/componentize-py -d "$guest/wit" -w "$name" \
            componentize app -p "$guest" -o "target/$name.wasm"; \
    done

# The wheels and the sdist, in dist/: the universal wheel (the component, no compiled
# code), this platform's (plus the compiled call path and the cdylib), and the sources
# with a backend that builds the Rust parts; see tools/build_wheels.py.
dist: setup build
    {{python}} tools/build_wheels.py

# Each wheel, and one built from the sdist, installed into a fresh venv outside the tree.
dist-check: dist build-test-guests
    {{python}} tools/check_wheels.py

# The demo: every backend, each function's result, a short timing table.
run: setup build
    {{python}} host_py/run.py

# Rust unit tests, then the Python tests (differential, property, all-types guest, hostile):
# on the compiled call path, then all again on the pure-Python one (SANDLINK_PURE=1).
test: setup build build-test-guests
    cargo test --locked -p sandlink
    cd host_py && ../{{python}} -m pytest -q
    cd host_py && SANDLINK_PURE=1 ../{{python}} -m pytest -q

# The whole suite (both call paths) on another Python, e.g. `just test-python 3.10`: its own
# venv (.venv-3.10) from the newest pyenv 3.10.x, else `python3.10` on PATH.
test-python version: setup build build-test-guests
    py=$(ls -d "$HOME"/.pyenv/versions/{{version}}.*/bin/python 2>/dev/null | sort -V | tail -1); \
    py=${py:-$(command -v python{{version}})}; \
    if [ -z "$py" ]; then echo "no Python {{version}} on PATH or in pyenv" >&2; exit 1; fi; \
    [ -x .venv-{{version}}/bin/python ] || "$py" -m venv .venv-{{version}}; \
    .venv-{{version}}/bin/python -m pip install --quiet --disable-pip-version-check -e "host_py[test]"
    cd host_py && ../.venv-{{version}}/bin/python -m pytest -q -p no:cacheprovider
    cd host_py && SANDLINK_PURE=1 ../.venv-{{version}}/bin/python -m pytest -q -p no:cacheprovider

# The benchmark suite (bench/README.md): `just bench`, `just bench --quick`, `just bench readme`.
bench *args: setup build build-test-guests
    {{python}} -m pip install --quiet --disable-pip-version-check -r bench/requirements.txt
    if command -v go >/dev/null; then {{just_executable()}} --justfile {{justfile()}} build-seed-go; \
        else echo 'bench: no go on PATH: skipping "seed: Go c-shared" (just setup-go)' >&2; fi
    {{python}} bench/bench.py {{args}}

# 1,000,000 calls on one object, reporting RSS growth.
soak *args: setup build
    {{python}} bench/soak.py {{args}}

lint: setup build-test-guests
    cargo fmt --all --check
    cargo clippy --locked --all-targets -p sandlink -p sandlink-accel -- -D warnings
    cargo clippy --locked --target {{wasm_target}} --workspace --exclude sandlink-accel --exclude wasi_cli -- -D warnings
    # Separately: wasi_cli's wit-bindgen `std` feature would unify into the no_std kernels' build.
    cargo clippy --locked --target {{wasi_target}} -p wasi_cli -- -D warnings
    {{venv}}/bin/ruff check --config host_py/pyproject.toml host_py bench tools
    {{venv}}/bin/ruff format --config host_py/pyproject.toml --check host_py bench tools
    {{python}} tools/typecheck.py

# Rewrite host_py/sandlink/_api.py (the kernels' WIT in Python) from wit/; tests fail while it is stale.
api: setup
    {{python}} tools/gen_api.py

# What the component imports and exports, as WIT.
wit: build-wasm
    wasm-tools component wit target/sandlink.wasm

# Rewrite every derived file after a change to wit/ or src/ (see README, Adding a kernel).
generate: api readme-artifact

# Prove README's "Adding a kernel" on a copy of the tree (tools/check_add_kernel.py).
check-add-kernel: setup
    {{python}} tools/check_add_kernel.py

# Rewrite README's artifact table (size, sha256) from target/sandlink.wasm.
readme-artifact: build-wasm
    {{python}} -c 'import hashlib, pathlib, re; \
        wasm = pathlib.Path("target/sandlink.wasm").read_bytes(); \
        row = f"| `target/sandlink.wasm` | {len(wasm):,} bytes | `{hashlib.sha256(wasm).hexdigest()}` |"; \
        table = "| artifact | size | sha256 |\n|---|---|---|\n" + row; \
        readme = pathlib.Path("README.md"); \
        readme.write_text(re.sub(r"(<!-- artifact -->\n).*?(\n<!-- /artifact -->)", lambda m: m[1] + table + m[2], readme.read_text(), flags=re.S))'

# Go for the bench's seed contestant (bench/seed_go): Debian's golang-go, only if `go` is missing.
setup-go:
    if ! command -v go >/dev/null; then \
        sudo=$([ "$(id -u)" -eq 0 ] || echo sudo); \
        $sudo apt-get update -qq && $sudo apt-get install -y -qq golang-go; fi
    go version

# The seed system as a Go c-shared library for ctypes: target/seed_go/libseedgo.so (needs Go).
build-seed-go:
    mkdir -p target/seed_go
    cd bench/seed_go && CGO_ENABLED=1 go build -buildmode=c-shared -trimpath -buildvcs=false \
        -o ../../target/seed_go/libseedgo.so .
