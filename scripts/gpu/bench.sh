#!/usr/bin/env bash
# Runs transfer-bench's GPU rows from a GPU kit (scripts/gpu/kit.sh): `bench.sh gpu [options]`.
set -euo pipefail
KIT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CP=$(find "$KIT/classes" -mindepth 1 -maxdepth 1 -type d ! -name '*-tests' | sort | tr '\n' ':')$(find "$KIT/lib" -name '*.jar' ! -name 'junit-platform-console-standalone*' | tr '\n' ':')
PROPS=()
# The CUDA-enabled libfabric: its libfabric.so.1 may arrive as a text file naming the real one (a symlink that
# did not survive a copy), so point at the versioned file. It dlopens libcuda.so and libcudart.so at run time.
LIBFABRIC=$(find "$KIT/libfabric-cuda/lib" -name 'libfabric.so.1.*' -type f 2>/dev/null | head -n 1)
if [ -n "$LIBFABRIC" ]; then
  PROPS+=("-Dte.libfabric.library=$LIBFABRIC")
  [ -d /usr/local/cuda/lib64 ] && export LD_LIBRARY_PATH=/usr/local/cuda/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
fi
export IPATH_NO_BACKTRACE=1
exec "$KIT/jre/bin/java" --enable-native-access=ALL-UNNAMED "${PROPS[@]}" ${TE_JAVA_OPTS:-} \
  -cp "$CP" dev.transferengine.bench.TransferBench "$@"
