#!/usr/bin/env bash
# The main job, in one command: build, share a demo directory with virtiofs-host, boot a small Linux guest under
# QEMU that mounts it, lists it and writes a file, then show that file on the host. See scripts/demo.sh --help.
exec "$(dirname "$0")/scripts/demo.sh" "$@"
