#!/usr/bin/env bash
# Builds the kit for the GPU embeddings check, from the project root: `bash gpu/pack.sh`.
# Creates .gpu-embed/ (git-ignored through .git/info/exclude), small enough for the device tool's
# 64 MiB limit: the TypeScript checks bundled to plain JS (esbuild; no tsx needed there), this
# machine's node binary (xz), onnxruntime-node for linux-x64 only plus onnxruntime-common (xz),
# and the Vulkan loader packages that onnxruntime-node's WebGPU provider (Dawn) needs.
# Then on the device: run(command="bash gpu/embed-bench.sh", carry=[".gpu-embed"], timeout_s=420).
# (After ../shared/tools/gpu-pack.sh, which packs the whole node_modules — too big for this kit.)
set -euo pipefail
root=$(git rev-parse --show-toplevel)
cd "$root"
kit=.gpu-embed
grep -qx "/$kit/" .git/info/exclude 2>/dev/null || { mkdir -p .git/info; echo "/$kit/" >> .git/info/exclude; }
rm -rf "$kit" && mkdir -p "$kit/deb"
for entry in embed-bench backbone-checks; do
  npx esbuild "gpu/$entry.ts" --bundle --platform=node --format=esm --target=node20 \
    --external:onnxruntime-node --log-level=warning \
    --banner:js="import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" \
    --outfile="$kit/$entry.mjs"
done
echo "packing node ($(node --version))..."
xz -T2 -6 -c "$(readlink -f "$(command -v node)")" > "$kit/node.xz"
echo "packing onnxruntime-node (linux-x64) and onnxruntime-common..."
tar -cJf "$kit/ort.tar.xz" \
  --exclude='node_modules/onnxruntime-node/bin/napi-v*/darwin' \
  --exclude='node_modules/onnxruntime-node/bin/napi-v*/win32' \
  --exclude='node_modules/onnxruntime-node/bin/napi-v*/linux/arm64' \
  node_modules/onnxruntime-node node_modules/onnxruntime-common
echo "fetching Vulkan loader packages..."
o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/gpu-apt-lists'
mkdir -p /tmp/gpu-apt-lists/partial
apt-get $o update >/dev/null 2>&1 || true
# libvulkan1 alone is not enough: NVIDIA's Vulkan ICD is libGLX_nvidia.so.0, which needs glvnd
# (the first device run failed with "Could not get 'vkCreateInstance' … for ICD libGLX_nvidia.so.0").
(cd "$kit/deb" && apt-get $o download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2 >/dev/null)
ls "$kit/deb"/*.deb >/dev/null
du -sh "$kit"
