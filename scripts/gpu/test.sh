#!/usr/bin/env bash
# Runs the GPU suite (JUnit tests tagged "gpu") from a GPU kit (scripts/gpu/kit.sh). Needs an NVIDIA GPU and
# its driver (libcuda.so.1); no Java or Maven: the kit brings its own runtime. With the kit's CUDA-enabled
# libfabric, the libfabric GPU tests run on it. Extra arguments go to the JUnit console launcher
# (e.g. --select-class dev.transferengine.core.LoopbackCudaGpuTest).
set -euo pipefail
KIT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[ -x "$KIT/jre/bin/java" ] || { echo "gpu-test: no kit runtime at $KIT/jre (build the kit with ./te gpu-kit)" >&2; exit 1; }
CP=$(find "$KIT/classes" -mindepth 1 -maxdepth 1 -type d ! -name 'benchmarks*' | sort | tr '\n' ':')$(find "$KIT/lib" -name '*.jar' ! -name 'junit-platform-console-standalone*' | tr '\n' ':')
PROPS=()
# The CUDA-enabled libfabric: its libfabric.so.1 may arrive as a text file naming the real one (a symlink that
# did not survive a copy), so point at the versioned file. It dlopens libcuda.so and libcudart.so at run time.
LIBFABRIC=$(find "$KIT/libfabric-cuda/lib" -name 'libfabric.so.1.*' -type f 2>/dev/null | head -n 1)
if [ -n "$LIBFABRIC" ]; then
  PROPS+=("-Dte.libfabric.library=$LIBFABRIC")
  [ -d /usr/local/cuda/lib64 ] && export LD_LIBRARY_PATH=/usr/local/cuda/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
fi
export IPATH_NO_BACKTRACE=1
# The launcher runs with everything on the JVM's own class path (not --class-path), so tests that start child
# JVMs with java.class.path hand them the project's classes.
exec "$KIT/jre/bin/java" --enable-native-access=ALL-UNNAMED "${PROPS[@]}" ${TE_JAVA_OPTS:-} \
  -cp "${CP}$KIT/lib/junit-platform-console-standalone.jar" org.junit.platform.console.ConsoleLauncher execute \
  --include-tag gpu --disable-banner --details=tree ${*:---scan-class-path}
