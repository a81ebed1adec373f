#!/usr/bin/env bash
# Builds the kit for the GPU device check, from the project root: `bash bench/gpu/pack.sh`.
# Creates .gpu-kit/ (git-ignored through .git/info/exclude), under the device tool's 64 MiB carry
# limit: this machine's node binary (xz); the part of node_modules that the checks and `npm run cv`
# load (tsx and its esbuild, geotiff, onnx-proto/protobufjs, onnxruntime-node for linux-x64 only,
# onnxruntime-common; xz); and the Vulkan loader packages that onnxruntime-node's WebGPU provider
# (Dawn) needs. The project's own TypeScript travels with the working tree and runs under tsx.
# Then on the device: run(command="bash bench/gpu/device-run.sh", carry=[".gpu-kit"], timeout_s=590).
set -euo pipefail
root=$(git rev-parse --show-toplevel)
cd "$root"
[ -d node_modules/onnxruntime-node ] || { echo "run npm ci first" >&2; exit 1; }
kit=.gpu-kit
grep -qx "/$kit/" .git/info/exclude 2>/dev/null || { mkdir -p .git/info; echo "/$kit/" >> .git/info/exclude; }
rm -rf "$kit" && mkdir -p "$kit/deb"
echo "packing node ($(node --version))..."
xz -T4 -6 -c "$(readlink -f "$(command -v node)")" > "$kit/node.xz"
# The runtime closure of these packages (dependencies and optional dependencies, resolved as node does).
mods=$(node -e "
const fs=require('fs'),path=require('path');const seen=new Set();
const find=(n,from)=>{for(let d=from;;d=path.dirname(d)){const p=path.join(d,'node_modules',n);if(fs.existsSync(p))return p;if(path.dirname(d)===d)return null;}};
const walk=(dir)=>{if(seen.has(dir))return;seen.add(dir);const pj=JSON.parse(fs.readFileSync(path.join(dir,'package.json')));
  for(const n of Object.keys({...pj.dependencies,...pj.optionalDependencies})){const p=find(n,dir);if(p)walk(p);}};
for(const n of ['tsx','geotiff','onnx-proto','protobufjs','onnxruntime-node','onnxruntime-common'])walk(path.resolve('node_modules',n));
console.log([...seen].map(s=>path.relative('.',s)).filter(s=>!/@types|undici-types/.test(s)).join(' '))")
echo "packing node_modules subset..."
tar -cJf "$kit/node_modules.tar.xz" \
  --exclude='node_modules/onnxruntime-node/bin/napi-v*/darwin' \
  --exclude='node_modules/onnxruntime-node/bin/napi-v*/win32' \
  --exclude='node_modules/onnxruntime-node/bin/napi-v*/linux/arm64' \
  $mods
echo "fetching Vulkan loader packages..."
o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/gpu-apt-lists'
mkdir -p /tmp/gpu-apt-lists/partial
apt-get $o update >/dev/null 2>&1 || true
# libvulkan1 alone is not enough: NVIDIA's Vulkan ICD is libGLX_nvidia.so.0, which needs glvnd
# (an early device run failed with "Could not get 'vkCreateInstance' … for ICD libGLX_nvidia.so.0").
(cd "$kit/deb" && apt-get $o download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2 >/dev/null)
ls "$kit/deb"/*.deb >/dev/null
du -sh "$kit"
size=$(du -sm "$kit" | cut -f1)
[ "$size" -le 60 ] || { echo "the kit is ${size} MiB; the device tool carries at most 64 MiB" >&2; exit 1; }
