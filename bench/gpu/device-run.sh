#!/usr/bin/env bash
# The GPU runner issue's device check: one run of ~9.5 minutes on the device machine.
#   bash bench/gpu/pack.sh                      # here, once: builds .gpu-kit/
#   run(command="bash bench/gpu/device-run.sh", carry=[".gpu-kit"], timeout_s=590)
# 1. PyTorch torchvision ResNet-34 at 2000x1000, fp32 (TF32, PyTorch's default) and fp16: the reference
#    (bench/gpu/torch_bench.py), while the synthetic set is generated on the CPU beside it;
# 2. onnxruntime-node WebGPU over a matrix of settings, one child process per setting, with a profile
#    (bench/gpu/webgpu-bench.ts);
# 3. Table 1 at the paper's 2000x1000 (`npm run cv`, methods 1, 3, 4, 2 in that order, `paper` features)
#    with the embeddings computed on the GPU until the time is up; the embeddings cache is split into
#    $OUT/embeddings.tar.part-*; commit them as bench/gpu/results/<run>-embeddings.tar.xz
#    (`cat parts | xz -9`) and the next run resumes where this one stopped.
# The device tool returns at most 8 files from $OUT: this script writes at most 8 there (the
# per-setting JSON files stay under /tmp/webgpu-bench); do not add more to the run's command.
# Results under $OUT (8 files at most): run.log, torch.json, webgpu.json, scattering-cpu.json,
# cv.json, cv-fused.json, embeddings.tar.part-aa/-ab (the evidence cache is not kept: it is recomputed in seconds).
# Locally (no GPU, no torch) the same script checks itself at a small size:
#   EP=cpu SIZE=128x64 TOTAL=300 OUT=/tmp/o bash bench/gpu/device-run.sh
set -u
OUT=${OUT:-/tmp/device-run-out}
EP=${EP:-webgpu}
SIZE=${SIZE:-2000x1000}
TOTAL=${TOTAL:-560}        # seconds this script may take, packing included
BENCH_BUDGET=${BENCH_BUDGET:-170}
SCALE=${SCALE:-full}
# Stages to run (comma list): a short device lease runs only some, e.g. STAGES=scattering.
STAGES=${STAGES:-torch,matrix,scattering,cv}
has() { case ",$STAGES," in *",$1,"*) return 0;; esac; return 1; }
kit=.gpu-kit
start=$(date +%s)
left() { echo $((TOTAL - ($(date +%s) - start))); }
mkdir -p "$OUT"
exec > >(tee -a "$OUT/run.log") 2>&1
log() { echo "[$(date +%T) +$(( $(date +%s) - start ))s] $*"; }

log "setup"
if [ "$EP" != cpu ]; then
  for f in "$kit"/deb/*.deb; do dpkg -x "$f" /; done
  ldconfig
  export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
  export __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
  mkdir -p /tmp/gpu-node && xz -dc "$kit/node.xz" > /tmp/gpu-node/node && chmod +x /tmp/gpu-node/node
  export PATH=/tmp/gpu-node:$PATH
fi
[ -d node_modules/tsx ] || tar -xJf "$kit/node_modules.tar.xz"
tsx() { node node_modules/tsx/dist/cli.mjs "$@"; }
node --version; nproc

data=/tmp/platina-synth
synth=
if has cv; then
log "synthetic set ($SCALE) in the background"
( tsx scripts/synth.ts --out "$data" --scale "$SCALE" --workers "$(( $(nproc) - 2 ))" > /tmp/synth.log 2>&1; echo "synth exit $?" >> /tmp/synth.log ) &
synth=$!
fi

log "1. PyTorch reference"
if ! has torch; then log "skipped (STAGES)"
elif command -v python3 >/dev/null && python3 -c 'import torch' 2>/dev/null; then
  PYTHONUNBUFFERED=1 timeout 80 python3 bench/gpu/torch_bench.py bench --size "$SIZE" --out "$OUT/torch.json" || log "torch bench failed ($?)"
else
  log "no torch here: skipped"
fi

log "2. onnxruntime-node $EP settings matrix"
if has matrix; then
  timeout $((BENCH_BUDGET + 60)) node node_modules/tsx/dist/cli.mjs bench/gpu/webgpu-bench.ts --ep "$EP" --size "$SIZE" \
    --out "$OUT/webgpu.json" --budget "$BENCH_BUDGET" --work /tmp/webgpu-bench || log "webgpu bench failed ($?)"
else log "skipped (STAGES)"; fi
# The evidence block's scattering graph on the CPU provider (one thread per image in the runner) beside WebGPU.
if has scattering && ! has matrix; then
  timeout 60 node node_modules/tsx/dist/cli.mjs bench/gpu/webgpu-bench.ts --ep "$EP" --only scattering-b1,scattering-b8 \
    --out /tmp/webgpu-bench/scattering-$EP.json --budget 40 --work /tmp/webgpu-bench || log "scattering $EP failed ($?)"
  cp /tmp/webgpu-bench/scattering-$EP.json "$OUT/" 2>/dev/null
fi
has scattering && timeout 50 node node_modules/tsx/dist/cli.mjs bench/gpu/webgpu-bench.ts --ep cpu --only scattering-b1,scattering-b8 \
  --out /tmp/webgpu-bench/scattering-cpu.json --budget 30 --work /tmp/webgpu-bench-cpu || log "scattering cpu failed ($?)"
prof=$(ls -t /tmp/webgpu-bench/profile-*.json 2>/dev/null | head -1)
# The profile's summary is in webgpu.json (the profiled setting's row); the raw file stays here, so that $OUT
# holds at most 8 files (run.log, torch, webgpu, scattering-cpu, cv, cv-fused, two embeddings parts).
[ -n "$prof" ] && log "raw profile: $prof ($(du -h "$prof" | cut -f1)), summarised in webgpu.json"

if ! has cv; then cp /tmp/webgpu-bench/scattering-cpu.json "$OUT/" 2>/dev/null; ls -la "$OUT"; log "done"; exit 0; fi
log "3. Table 1 at $SIZE (waiting for the synthetic set)"
wait $synth; tail -3 /tmp/synth.log
cache=/tmp/platina-cv-cache
mkdir -p "$cache"
# Embeddings of earlier runs, committed under bench/gpu/results/ (xz of the parts): resume from them.
# The cache is keyed by image sha256, backbone hash, input size, method and bounds, so a stale vector is never used.
for f in bench/gpu/results/*-embeddings.tar.xz; do [ -f "$f" ] && xz -dc "$f" | tar -C "$cache" -xf - ; done
log "resumed $(find "$cache" -name '*.f32' | wc -l) cached embeddings"
budget=$(( $(left) - 30 ))
log "cv budget ${budget}s"
if [ "$budget" -gt 20 ]; then
  PLATINA_EP=$EP timeout "$budget" node node_modules/tsx/dist/cli.mjs model-runner/src/cv-cli.ts --method 1,3,4,2 \
    --data "$data" --size "$SIZE" --cache "$cache" --images-per-batch 1 --out "$OUT/cv.json" || log "cv stopped ($?)"
fi
# Then the fused features (embeddings from the cache above, evidence on the CPU workers), as far as time allows.
budget=$(( $(left) - 30 ))
if [ "$budget" -gt 20 ]; then
  PLATINA_EP=$EP timeout "$budget" node node_modules/tsx/dist/cli.mjs model-runner/src/cv-cli.ts --method 2,3,4,1 \
    --features fused --data "$data" --size "$SIZE" --cache "$cache" --images-per-batch 1 --out "$OUT/cv-fused.json" || log "cv fused stopped ($?)"
fi
cp /tmp/webgpu-bench/scattering-cpu.json "$OUT/" 2>/dev/null
log "cached embeddings: $(find "$cache" -name '*.f32' | wc -l)"
( cd "$cache" && tar -cf - --exclude='./evidence-*' . ) | split -b 15m - "$OUT/embeddings.tar.part-"
ls -la "$OUT"
log "done"
