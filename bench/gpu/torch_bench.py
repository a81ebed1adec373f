#!/usr/bin/env python3
"""PyTorch side of the GPU check (issue 6), run on the device by bench/gpu/embed-bench.sh.

    python3 bench/gpu/torch_bench.py bench --size 2000x1000 --out $OUT/torch.json
    python3 bench/gpu/torch_bench.py topology --model /tmp/platina-r34.onnx --out $OUT/topology.json

bench:    torchvision ResNet-34 (random init: weights do not change the speed) forward passes per
          second at the given size, batch 1/4/8. "fp32" is PyTorch's default numerics, which on
          Hopper lets cuDNN use TF32 for convolutions (torch.backends.cudnn.allow_tf32 = True);
          strict fp32 (TF32 off), fp16 channels_last, and fp32 with the input copied from the host
          each pass (what onnxruntime-node does) are measured beside it.
topology: loads the initializers of Platina's TypeScript-built ResNet-34 (named like torchvision's
          state_dict) into torchvision.models.resnet34 and compares the two networks' outputs on
          the same input, run by onnxruntime (CPU) and by PyTorch: equal outputs mean the graph is
          torchvision's topology, layer for layer.
"""
import argparse
import copy
import json
import sys
import time

import torch
import torchvision


def forward_features(net, x):
    x = net.maxpool(net.relu(net.bn1(net.conv1(x))))
    x = net.layer4(net.layer3(net.layer2(net.layer1(x))))
    f = torch.flatten(net.avgpool(x), 1)
    return f, net.fc(f)


def bench(args):
    h, w = (int(v) for v in args.size.split("x"))
    dev = torch.device("cuda")
    torch.backends.cudnn.benchmark = True
    base = torchvision.models.resnet34(weights=None).eval()
    out = {"device": torch.cuda.get_device_name(0), "torch": torch.__version__,
           "torchvision": torchvision.__version__, "height": h, "width": w, "results": []}

    def run(label, batch, dtype=torch.float32, channels_last=False, tf32=True, host_input=False):
        torch.backends.cudnn.allow_tf32 = tf32
        m = copy.deepcopy(base).to(dev, dtype=dtype)
        fmt = torch.channels_last if channels_last else torch.contiguous_format
        m = m.to(memory_format=fmt)
        x_host = torch.randn(batch, 3, h, w, dtype=dtype)
        x = x_host.to(dev).contiguous(memory_format=fmt)
        with torch.inference_mode():
            for _ in range(3):
                m(x)
            torch.cuda.synchronize()
            iters = max(5, 48 // batch)
            t = time.perf_counter()
            for _ in range(iters):
                xi = x_host.to(dev, non_blocking=False).contiguous(memory_format=fmt) if host_input else x
                y = m(xi)
                if host_input:
                    y.cpu()
            torch.cuda.synchronize()
            dt = (time.perf_counter() - t) / iters
        r = {"id": label, "batch": batch, "dtype": str(dtype), "channels_last": channels_last,
             "tf32": tf32, "host_input": host_input, "seconds_per_run": dt, "images_per_second": batch / dt}
        out["results"].append(r)
        print(f"{label:28s} {batch / dt:8.1f} img/s", flush=True)
        del m, x
        torch.cuda.empty_cache()

    for b in (1, 4, 8, 16):
        run(f"torch-fp32-b{b}", b)
    run("torch-fp32-strict-b4", 4, tf32=False)
    run("torch-fp32-hostinput-b4", 4, host_input=True)
    run("torch-fp16-cl-b8", 8, dtype=torch.float16, channels_last=True)
    with open(args.out, "w") as f:
        json.dump(out, f, indent=2)


def topology(args):
    import numpy as np
    import onnx
    import onnxruntime as ort
    from onnx import numpy_helper

    model = onnx.load(args.model)
    state = {t.name: torch.from_numpy(numpy_helper.to_array(t).copy()) for t in model.graph.initializer}
    net = torchvision.models.resnet34(weights=None).eval()
    missing, unexpected = net.load_state_dict(state, strict=False)
    missing = [k for k in missing if not k.endswith("num_batches_tracked")]
    params = sum(p.numel() for p in net.parameters())
    torch.manual_seed(0)
    x = torch.randn(2, 3, 448, 224) * 0.5
    with torch.no_grad():
        f_ref, l_ref = forward_features(net, x)
    sess = ort.InferenceSession(args.model, providers=["CPUExecutionProvider"])
    f, l = sess.run(["features", "logits"], {"input": x.numpy()})
    out = {
        "missing_keys": missing, "unexpected_keys": list(unexpected), "torch_parameter_count": params,
        "features_max_abs_diff": float(np.abs(f - f_ref.numpy()).max()),
        "features_max_abs": float(np.abs(f_ref.numpy()).max()),
        "logits_max_abs_diff": float(np.abs(l - l_ref.numpy()).max()),
        "logits_max_abs": float(np.abs(l_ref.numpy()).max()),
    }
    out["equal"] = (not missing and not unexpected and params == 21797672
                    and out["features_max_abs_diff"] <= 1e-4 * max(1.0, out["features_max_abs"])
                    and out["logits_max_abs_diff"] <= 1e-4 * max(1.0, out["logits_max_abs"]))
    print(json.dumps(out), flush=True)
    with open(args.out, "w") as fh:
        json.dump(out, fh, indent=2)
    return 0 if out["equal"] else 1


def main():
    p = argparse.ArgumentParser()
    p.add_argument("what", choices=["bench", "topology"])
    p.add_argument("--size", default="2000x1000")
    p.add_argument("--model", default="/tmp/platina-r34.onnx")
    p.add_argument("--out", required=True)
    args = p.parse_args()
    if args.what == "bench":
        bench(args)
        return 0
    return topology(args)


if __name__ == "__main__":
    sys.exit(main())
