#!/usr/bin/env python3
"""Export torchvision's ImageNet ResNet-34 to ONNX for Platina (PLATINA_BACKBONE).

Exact command (needs torch, torchvision and onnx; downloads the ImageNet weights once):

    python3 model-runner/export-resnet34.py --out resnet34.onnx
    PLATINA_BACKBONE=$PWD/resnet34.onnx npm start

The model has one input `input` (float32, N x 3 x H x W, ImageNet-normalised, any batch, height
and width) and two outputs: `features` (N x 512, the global-average-pooled activations the paper's
head reads, section 2.4) and `logits` (N x 1000, the ImageNet classifier, whose fc weights
initialise the head's first layer). Opset 17, one self-contained file (~87 MB).

Options:
    --weights IMAGENET1K_V1   torchvision weights enum name (default), or `none` for random
                              initialisation (for timing or testing the pipeline only)
    --check                   also run the file with onnxruntime (if installed) and compare with
                              PyTorch at 448x224
    --dynamo                  use torch.onnx's dynamo exporter instead of the TorchScript one
                              (used automatically if the TorchScript exporter is missing)

Verified with torch 2.11 / torchvision 0.26 (TorchScript exporter, --weights none --check: onnxruntime
matches PyTorch to 1e-4, and the runner accepts the file); see bench/gpu/results/README.md. The --dynamo
path has not been run.
"""
import argparse
import inspect
import sys

import torch
import torchvision


class ResNetWithFeatures(torch.nn.Module):
    """torchvision's ResNet forward, returning the pooled features beside the logits."""

    def __init__(self, net: torchvision.models.ResNet):
        super().__init__()
        self.net = net

    def forward(self, x):
        n = self.net
        x = n.maxpool(n.relu(n.bn1(n.conv1(x))))
        x = n.layer4(n.layer3(n.layer2(n.layer1(x))))
        features = torch.flatten(n.avgpool(x), 1)
        return features, n.fc(features)


def export_torchscript(model, example, args):
    kwargs = {"dynamo": False} if "dynamo" in inspect.signature(torch.onnx.export).parameters else {}
    torch.onnx.export(model, (example,), args.out, opset_version=args.opset,
                      input_names=["input"], output_names=["features", "logits"],
                      dynamic_axes={"input": {0: "N", 2: "H", 3: "W"},
                                    "features": {0: "N"}, "logits": {0: "N"}},
                      do_constant_folding=True, **kwargs)


def export_dynamo(model, example, args):
    dyn = torch.export.Dim.DYNAMIC
    torch.onnx.export(model, (example,), args.out, dynamo=True, opset_version=args.opset,
                      input_names=["input"], output_names=["features", "logits"],
                      dynamic_shapes={"x": {0: dyn, 2: dyn, 3: dyn}}, external_data=False)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default="resnet34.onnx")
    p.add_argument("--weights", default="IMAGENET1K_V1")
    p.add_argument("--opset", type=int, default=17)
    p.add_argument("--check", action="store_true")
    p.add_argument("--dynamo", action="store_true")
    args = p.parse_args()

    weights = None if args.weights.lower() == "none" else args.weights
    net = torchvision.models.resnet34(weights=weights).eval()
    model = ResNetWithFeatures(net).eval()
    example = torch.randn(1, 3, 448, 224)
    with torch.no_grad():
        if args.dynamo:
            export_dynamo(model, example, args)
        else:
            try:
                export_torchscript(model, example, args)
            except Exception as err:  # torch builds without the TorchScript exporter
                print(f"TorchScript export failed ({err}); trying the dynamo exporter", file=sys.stderr)
                export_dynamo(model, example, args)
    print(f"wrote {args.out} (weights: {weights or 'random'})")

    if args.check:
        import numpy as np
        import onnxruntime as ort

        x = torch.randn(2, 3, 448, 224)
        with torch.no_grad():
            f_ref, l_ref = model(x)
        sess = ort.InferenceSession(args.out, providers=["CPUExecutionProvider"])
        f, l = sess.run(["features", "logits"], {"input": x.numpy()})
        df = float(np.abs(f - f_ref.numpy()).max())
        dl = float(np.abs(l - l_ref.numpy()).max())
        print(f"check at 2x3x448x224: max |features - torch| = {df:.2e}, max |logits - torch| = {dl:.2e}")
        if df > 1e-3 * max(1.0, float(f_ref.abs().max())) or dl > 1e-3 * max(1.0, float(l_ref.abs().max())):
            print("check FAILED", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
