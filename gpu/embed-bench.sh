#!/usr/bin/env bash
# GPU check of issue 6, on the device machine (one run, ~6 minutes at most):
#   bash gpu/pack.sh        # here, once: builds .gpu-embed/
#   run(command="bash gpu/embed-bench.sh", carry=[".gpu-embed"], timeout_s=420)
# 1. PyTorch torchvision ResNet-34 forward passes/s at 2000x1000 (the reference), gpu/torch_bench.py;
# 2. onnxruntime-node WebGPU over a matrix of settings, gpu/embed-bench.ts (bundled);
# 3. topology: Platina's TS-built ResNet-34 loaded into torchvision gives the same outputs;
# 4. export-resnet34.py runs with this torch, and the runner accepts its output.
# Results: $OUT/{torch,webgpu,topology,export-check}.json and $OUT/run.log.
# SKIP_CHECKS=1 runs steps 1-2 only.
# Locally (no GPU, no torch) the same script checks itself: EP=cpu SIZE=128x64 OUT=/tmp/o bash gpu/embed-bench.sh
set -u
OUT=${OUT:-/tmp/embed-bench-out}
EP=${EP:-webgpu}
SIZE=${SIZE:-2000x1000}
BUDGET=${BUDGET:-150}
kit=.gpu-embed
mkdir -p "$OUT"
exec > >(tee -a "$OUT/run.log") 2>&1
log() { echo "[$(date +%T)] $*"; }

log "setup"
if [ "$EP" != cpu ]; then
  for f in "$kit"/deb/*.deb; do dpkg -x "$f" /; done
  ldconfig
  export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
  export __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
fi
if ! command -v node >/dev/null || [ "$EP" != cpu ]; then
  mkdir -p /tmp/gpu-node && xz -dc "$kit/node.xz" > /tmp/gpu-node/node && chmod +x /tmp/gpu-node/node
  export PATH=/tmp/gpu-node:$PATH
fi
[ -d "$kit/node_modules/onnxruntime-node" ] || tar -C "$kit" -xJf "$kit/ort.tar.xz"
node --version

log "1. PyTorch reference"
PYTHONUNBUFFERED=1 timeout 100 python3 gpu/torch_bench.py bench --size "$SIZE" --out "$OUT/torch.json" || log "torch bench failed ($?)"

log "2. onnxruntime-node $EP"
timeout $((BUDGET + 60)) node "$kit/embed-bench.mjs" --ep "$EP" --size "$SIZE" --out "$OUT/webgpu.json" --budget "$BUDGET" || log "embed bench failed ($?)"

if [ -n "${SKIP_CHECKS:-}" ]; then log "done (checks 3-4 skipped)"; exit 0; fi
log "3. topology against torchvision"
timeout 60 node "$kit/backbone-checks.mjs" write-model /tmp/platina-r34.onnx &&
  PYTHONUNBUFFERED=1 timeout 60 python3 gpu/torch_bench.py topology --model /tmp/platina-r34.onnx --out "$OUT/topology.json" || log "topology check failed ($?)"

log "4. export-resnet34.py and the runner's validation of its output"
PYTHONUNBUFFERED=1 timeout 90 python3 model-runner/export-resnet34.py --weights none --out /tmp/tv-r34.onnx --check &&
  timeout 60 node "$kit/backbone-checks.mjs" validate /tmp/tv-r34.onnx "$OUT/export-check.json" || log "export check failed ($?)"
log "done"
