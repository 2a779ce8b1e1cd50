#!/usr/bin/python3
"""Writes the models the ONNX runner tests use (Debian's python3-onnx and numpy):

    onnx_check_models.py OUTDIR

OUTDIR/two/model.onnx: inputs x (2,3,4) and y (3,4) float32, outputs s = x + y and
r = Relu(x * y), with test_data_set_0 (random inputs, NumPy's outputs) and bad_set (the same
inputs, s off by 0.01); OUTDIR/hostile_*.onnx: malformed or hostile models.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def save_tensor(path, array, name):
    with open(path, "wb") as f:
        f.write(numpy_helper.from_array(array, name).SerializeToString())


def two(out):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [3, 4])
    s = helper.make_tensor_value_info("s", TensorProto.FLOAT, [2, 3, 4])
    r = helper.make_tensor_value_info("r", TensorProto.FLOAT, [2, 3, 4])
    nodes = [helper.make_node("Add", ["x", "y"], ["s"]), helper.make_node("Mul", ["x", "y"], ["p"]),
             helper.make_node("Relu", ["p"], ["r"])]
    model = helper.make_model(helper.make_graph(nodes, "two", [x, y], [s, r]),
                              opset_imports=[helper.make_opsetid("", 13)])
    os.makedirs(os.path.join(out, "two", "test_data_set_0"))
    os.makedirs(os.path.join(out, "two", "bad_set"))
    onnx.save(model, os.path.join(out, "two", "model.onnx"))
    rng = np.random.default_rng(7)
    xv = rng.standard_normal((2, 3, 4)).astype(np.float32)
    yv = rng.standard_normal((3, 4)).astype(np.float32)
    for d, off in (("test_data_set_0", 0), ("bad_set", 0.01)):
        save_tensor(os.path.join(out, "two", d, "input_0.pb"), xv, "x")
        save_tensor(os.path.join(out, "two", d, "input_1.pb"), yv, "y")
        save_tensor(os.path.join(out, "two", d, "output_0.pb"), (xv + yv + off).astype(np.float32), "s")
        save_tensor(os.path.join(out, "two", d, "output_1.pb"), np.maximum(xv * yv, 0), "r")
    return model


def hostile(out, good):
    data = good.SerializeToString()
    with open(os.path.join(out, "hostile_truncated.onnx"), "wb") as f:
        f.write(data[: len(data) // 2])
    with open(os.path.join(out, "hostile_garbage.onnx"), "wb") as f:
        f.write(np.random.default_rng(1).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    # An initializer that claims 2^40 values, one whose bytes do not match its shape, a
    # node that reads a value nothing defines, and a huge declared input.
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [3])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [3])
    huge = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[1 << 20, 1 << 20])
    short = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[4], raw_data=b"\0" * 5)
    cases = {"huge_initializer": huge, "short_initializer": short}
    for name, w in cases.items():
        g = helper.make_graph([helper.make_node("Add", ["x", "w"], ["y"])], name, [x], [y], [w])
        onnx.save(helper.make_model(g), os.path.join(out, "hostile_" + name + ".onnx"))
    g = helper.make_graph([helper.make_node("Add", ["x", "nowhere"], ["y"])], "dangling", [x], [y])
    onnx.save(helper.make_model(g), os.path.join(out, "hostile_dangling.onnx"))
    big = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1 << 30, 1 << 30])
    g = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "big", [big], [y])
    onnx.save(helper.make_model(g), os.path.join(out, "hostile_big_input.onnx"))


def main():
    out = sys.argv[1]
    hostile(out, two(out))


if __name__ == "__main__":
    main()
