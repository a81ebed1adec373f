#!/usr/bin/env bash
# The GPU runner issue's device check: one run of ~9.5 minutes on the device machine.
#   bash bench/gpu/pack.sh                      # here, once: builds .gpu-kit/
#   run(command="bash bench/gpu/device-run.sh", carry=[".gpu-kit"], timeout_s=590)
# Stages (STAGES, comma list, run in the order given; default cv,torch,matrix):
# - cv: Table 1 at the paper's 2000x1000 (`npm run cv`, methods 1, 3, 4, 2, `paper` then `fused`
#   features) with the embeddings computed on the GPU until the time is up, resuming from the caches
#   committed under bench/gpu/results/; the cache is split into $OUT/embeddings.tar.part-*: commit them
#   as bench/gpu/results/<run>-embeddings.tar.xz (`cat parts | xz -9`) and the next run resumes there.
#   It goes first because it is what runs 2-4 left open; the stages after it keep a reserve.
# - torch: PyTorch torchvision ResNet-34 at 2000x1000, fp32 (TF32, PyTorch's default) and fp16, the
#   reference (bench/gpu/torch_bench.py);
# - matrix: onnxruntime-node WebGPU settings, one child process per setting (bench/gpu/webgpu-bench.ts);
#   MATRIX_ONLY picks settings (default: those new since run 4 beside their baselines; empty = all,
#   with a profile);
# - scattering: the evidence block's scattering graph on WebGPU beside the CPU provider.
# The synthetic set is generated on the CPU in the background from the start.
# The device tool returns at most 8 files from $OUT: this script writes at most 8 there (run.log,
# torch.json, webgpu.json, scattering.json, cv.json, cv-fused.json, embeddings.tar.part-aa/-ab; the
# per-setting JSON files stay under /tmp/webgpu-bench, the evidence cache is recomputed in seconds).
# Locally (no GPU, no torch) the same script checks itself at a small size:
#   EP=cpu SIZE=128x64 SCALE=small TOTAL=300 OUT=/tmp/o bash bench/gpu/device-run.sh
set -u
OUT=${OUT:-/tmp/device-run-out}
EP=${EP:-webgpu}
SIZE=${SIZE:-2000x1000}
TOTAL=${TOTAL:-560}        # seconds this script may take, packing included
SCALE=${SCALE:-full}
# Stages, run in this order (comma list of torch, matrix, scattering, cv). Runs 2-4 measured the
# matrix and the scattering graph; what is left is Table 1 (cv), so it goes first and the rest share
# what remains: the PyTorch reference and the settings that are new since run 4 (MATRIX_ONLY).
STAGES=${STAGES:-cv,torch,matrix}
MATRIX_ONLY=${MATRIX_ONLY-fp32-b1,fp32-b4,fp32-flips-b4,fp16-nhwc-b4,fp16-nhwc-flips-b4}
BENCH_BUDGET=${BENCH_BUDGET:-$([ -n "$MATRIX_ONLY" ] && echo 75 || echo 170)}
has() { case ",$STAGES," in *",$1,"*) return 0;; esac; return 1; }
kit=.gpu-kit
start=$(date +%s)
left() { echo $((TOTAL - ($(date +%s) - start))); }
# A stage's time limit: what it asks for, at most what is left (less 15 s to pack the results).
cap() { local l=$(( $(left) - 15 )); [ "$l" -lt "$1" ] && echo $(( l > 1 ? l : 1 )) || echo "$1"; }
mkdir -p "$OUT"
export OUT
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

stage_torch() {
  log "PyTorch reference"
  if command -v python3 >/dev/null && python3 -c 'import torch' 2>/dev/null; then
    PYTHONUNBUFFERED=1 timeout "$(cap 80)" python3 bench/gpu/torch_bench.py bench --size "$SIZE" --out "$OUT/torch.json" || log "torch bench failed ($?)"
  else
    log "no torch here: skipped"
  fi
}

stage_matrix() {
  log "onnxruntime-node $EP settings matrix${MATRIX_ONLY:+ (only $MATRIX_ONLY)}"
  local budget=$(( $(cap $((BENCH_BUDGET + 60))) - 60 ))
  [ "$budget" -gt 10 ] || { log "no time left for the matrix"; return; }
  timeout $((budget + 60)) node node_modules/tsx/dist/cli.mjs bench/gpu/webgpu-bench.ts --ep "$EP" --size "$SIZE" \
    --out "$OUT/webgpu.json" --budget "$budget" --work /tmp/webgpu-bench ${MATRIX_ONLY:+--only "$MATRIX_ONLY"} || log "webgpu bench failed ($?)"
  prof=$(ls -t /tmp/webgpu-bench/profile-*.json 2>/dev/null | head -1)
  # The profile's summary is in webgpu.json (the profiled setting's row); the raw file stays on the machine.
  [ -n "$prof" ] && log "raw profile: $prof ($(du -h "$prof" | cut -f1)), summarised in webgpu.json"
}

# The evidence block's scattering graph on $EP beside the CPU provider (one thread per image in the runner).
stage_scattering() {
  log "scattering graph: $EP and cpu"
  local e
  for e in $(echo "$EP cpu" | tr ' ' '\n' | sort -u); do
    timeout "$(cap 60)" node node_modules/tsx/dist/cli.mjs bench/gpu/webgpu-bench.ts --ep "$e" --only scattering-b1,scattering-b8 \
      --out "/tmp/scattering-$e.json" --budget 40 --work "/tmp/webgpu-bench-scattering-$e" || log "scattering $e failed ($?)"
  done
  # One file in $OUT for both providers: { "<ep>": report, … }
  node -e 'const fs=require("fs");const o={};for(const e of process.argv.slice(1)){try{o[e]=JSON.parse(fs.readFileSync(`/tmp/scattering-${e}.json`,"utf8"))}catch(err){o[e]={error:String(err)}}}fs.writeFileSync(process.env.OUT+"/scattering.json",JSON.stringify(o,null,2))' $(echo "$EP cpu" | tr ' ' '\n' | sort -u)
}

# Table 1 at $SIZE: `paper` features for methods 1, 3, 4, 2, then `fused`, resuming from the committed caches.
stage_cv() {
  log "Table 1 at $SIZE (waiting for the synthetic set)"
  wait "$synth"; tail -3 /tmp/synth.log
  cache=/tmp/platina-cv-cache
  mkdir -p "$cache"
  # Embeddings of earlier runs, committed under bench/gpu/results/ (xz of the parts): resume from them.
  # The cache is keyed by image sha256, backbone hash, input size, method and bounds, so a stale vector is never used.
  for f in bench/gpu/results/*-embeddings.tar.xz; do [ -f "$f" ] && xz -dc "$f" | tar -C "$cache" -xf - ; done
  log "resumed $(find "$cache" -name '*.f32' | wc -l) cached embeddings"
  local budget=$(( $(cap 100000) - 30 - RESERVE ))
  log "cv budget ${budget}s (${RESERVE}s kept for the stages after it)"
  if [ "$budget" -gt 20 ]; then
    PLATINA_EP=$EP timeout "$budget" node node_modules/tsx/dist/cli.mjs model-runner/src/cv-cli.ts --method 1,3,4,2 \
      --data "$data" --size "$SIZE" --cache "$cache" --images-per-batch 1 --out "$OUT/cv.json" || log "cv stopped ($?)"
  fi
  # Then the fused features (embeddings from the cache above, evidence on the CPU workers), as far as time allows.
  budget=$(( $(cap 100000) - 30 - RESERVE ))
  if [ "$budget" -gt 20 ]; then
    PLATINA_EP=$EP timeout "$budget" node node_modules/tsx/dist/cli.mjs model-runner/src/cv-cli.ts --method 2,3,4,1 \
      --features fused --data "$data" --size "$SIZE" --cache "$cache" --images-per-batch 1 --out "$OUT/cv-fused.json" || log "cv fused stopped ($?)"
  fi
  log "cached embeddings: $(find "$cache" -name '*.f32' | wc -l)"
  ( cd "$cache" && tar -cf - --exclude='./evidence-*' . ) | split -b 15m - "$OUT/embeddings.tar.part-"
  RESERVE=0
}

# The stages after cv get RESERVE seconds between them; cv takes the rest.
RESERVE=0
after_cv=0
for stage in ${STAGES//,/ }; do
  [ "$stage" = cv ] && { after_cv=1; continue; }
  [ "$after_cv" = 1 ] && case $stage in torch) RESERVE=$((RESERVE + 70));; matrix) RESERVE=$((RESERVE + BENCH_BUDGET + 20));; scattering) RESERVE=$((RESERVE + 100));; esac
done
for stage in ${STAGES//,/ }; do
  case $stage in
    torch|matrix|scattering|cv) "stage_$stage" ;;
    *) log "unknown stage $stage (torch, matrix, scattering, cv)" ;;
  esac
done
ls -la "$OUT"
log "done"
