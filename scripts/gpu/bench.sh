#!/usr/bin/env bash
# Runs transfer-bench from a GPU kit (scripts/gpu/kit.sh): `bench.sh gpu [options]`.
set -euo pipefail
# shellcheck source=scripts/gpu/kit-env.sh
source "$(dirname "${BASH_SOURCE[0]}")/kit-env.sh" '*-tests'
exec "$KIT/jre/bin/java" --enable-native-access=ALL-UNNAMED "${KIT_PROPS[@]}" ${TE_JAVA_OPTS:-} \
  -cp "${KIT_CLASSES}${KIT_JARS}" dev.transferengine.bench.TransferBench "$@"
