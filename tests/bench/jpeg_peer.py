#!/usr/bin/env python3
"""JPEG loader peer for petabox-bench: torchvision + PIL decoding and augmenting the same files.

  jpeg_peer.py --dir DIR [--size 224] [--threads 1] [--repeat 1]

For every .JPEG/.jpg under DIR/train (sorted), what torchvision's ImageFolder pipeline with
MLPerf ResNet-50's training transform does per image: PIL.Image.open(...).convert("RGB"),
RandomResizedCrop(size) (bilinear), RandomHorizontalFlip(), PILToTensor() (uint8 CHW, no
normalisation: the engine's loader also stops at uint8). One process, torch.set_num_threads
(--threads): images per second per core on the same machine as the engine's loader.
One untimed pass over the first 32 files warms the page cache and PIL.

Prints one JSON line: peer, torchvision, pil, threads, images, seconds, images_per_second.
Exits 2 with a JSON line holding "error" when torchvision or PIL is missing.
"""
import argparse
import json
import os
import sys
import time


def list_files(root):
    out = []
    for dirpath, _, names in os.walk(os.path.join(root, "train")):
        for n in names:
            if n.lower().endswith((".jpeg", ".jpg")):
                out.append(os.path.join(dirpath, n))
    return sorted(out)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    try:
        import torch
        import torchvision
        from torchvision import transforms
        import PIL
        from PIL import Image
    except ImportError as e:
        print(json.dumps({"peer": "torchvision-pil", "error": str(e)}))
        return 2
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    transform = transforms.Compose([transforms.RandomResizedCrop(args.size), transforms.RandomHorizontalFlip(),
                                    transforms.PILToTensor()])
    files = list_files(args.dir)

    def load(path):
        with open(path, "rb") as f:
            return transform(Image.open(f).convert("RGB"))

    for path in files[:32]:
        load(path)
    start = time.perf_counter()
    for _ in range(args.repeat):
        for path in files:
            load(path)
    seconds = time.perf_counter() - start
    images = len(files) * args.repeat
    print(json.dumps({"peer": "torchvision-pil", "torchvision": torchvision.__version__, "pil": PIL.__version__,
                      "threads": torch.get_num_threads(), "images": images, "seconds": seconds,
                      "images_per_second": images / seconds}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
