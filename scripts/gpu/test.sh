#!/usr/bin/env bash
# Runs the GPU suite (JUnit tests tagged "gpu") from a GPU kit (scripts/gpu/kit.sh). Needs an NVIDIA GPU and
# its driver (libcuda.so.1); no Java or Maven: the kit brings its own runtime. With the kit's CUDA-enabled
# libfabric, the libfabric GPU tests run on it. Extra arguments go to the JUnit console launcher
# (e.g. --select-class dev.transferengine.core.LoopbackCudaGpuTest).
set -euo pipefail
# shellcheck source=scripts/gpu/kit-env.sh
source "$(dirname "${BASH_SOURCE[0]}")/kit-env.sh" 'benchmarks*'
# The launcher runs with everything on the JVM's own class path (not --class-path), so tests that start child
# JVMs with java.class.path hand them the project's classes.
exec "$KIT/jre/bin/java" --enable-native-access=ALL-UNNAMED "${KIT_PROPS[@]}" ${TE_JAVA_OPTS:-} \
  -cp "${KIT_CLASSES}${KIT_JARS}$KIT/lib/junit-platform-console-standalone.jar" \
  org.junit.platform.console.ConsoleLauncher execute \
  --include-tag gpu --disable-banner --details=tree ${*:---scan-class-path}
