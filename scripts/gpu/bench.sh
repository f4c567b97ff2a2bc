#!/usr/bin/env bash
# Runs transfer-bench's GPU rows from a GPU kit (scripts/gpu/kit.sh): `bench.sh gpu [options]`.
set -euo pipefail
KIT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CP=$(find "$KIT/classes" -mindepth 1 -maxdepth 1 -type d ! -name '*-tests' | sort | tr '\n' ':')$(find "$KIT/lib" -name '*.jar' ! -name 'junit-platform-console-standalone*' | tr '\n' ':')
PROPS=()
if [ -f "$KIT/libfabric-cuda/lib/libfabric.so.1" ]; then
  PROPS+=("-Dte.libfabric.library=$KIT/libfabric-cuda/lib/libfabric.so.1")
fi
export IPATH_NO_BACKTRACE=1
exec "$KIT/jre/bin/java" --enable-native-access=ALL-UNNAMED "${PROPS[@]}" ${TE_JAVA_OPTS:-} \
  -cp "$CP" dev.transferengine.bench.TransferBench "$@"
