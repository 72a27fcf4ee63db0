#!/usr/bin/env python3
"""Interoperability check of amlis-serve with a V2 client written elsewhere: Triton's
`tritonclient[http]` from PyPI, used unchanged.

    pip install "tritonclient[http]" numpy
    cargo run --release --example serve -- /tmp/amlis-models
    cargo build --release --features serve --bin amlis-serve
    python3 scripts/serve_tritonclient_check.py --launch target/release/amlis-serve --model-dir /tmp/amlis-models

(or `--url HOST:PORT` for a server already running over the models of examples/serve.rs).
Exits non-zero at the first failed check; prints one line per check.
"""

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "data")


def check(what, ok):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        sys.exit(1)


def launch(binary, model_dir):
    port_file = os.path.join(tempfile.mkdtemp(), "port")
    proc = subprocess.Popen(
        [binary, "--model-dir", model_dir, "--addr", "127.0.0.1:0", "--port-file", port_file],
        stdout=subprocess.DEVNULL,
    )
    for _ in range(600):
        if os.path.exists(port_file):
            with open(port_file) as f:
                return proc, f.read().strip()
        time.sleep(0.05)
    proc.kill()
    sys.exit("the server did not start")


def iris_rows():
    with open(os.path.join(DATA, "iris.csv")) as f:
        rows = list(csv.reader(f))[1:]
    return np.array([[float(v) for v in r[:4]] for r in rows], dtype=np.float64)


def penguin_columns(n):
    with open(os.path.join(DATA, "penguins.csv")) as f:
        reader = csv.DictReader(f)
        rows = [r for r in reader if r["island"] and r["sex"]][:n]
    cols = {}
    for name in ["island", "bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g", "sex", "year"]:
        if name in ("island", "sex"):
            cols[name] = np.array([r[name].encode() for r in rows], dtype=np.object_)
        else:
            cols[name] = np.array([float(r[name]) if r[name] not in ("", "NA") else np.nan for r in rows])
    return cols


def infer(client, model, inputs, outputs, binary_in, binary_out):
    request_inputs = []
    for name, array, datatype in inputs:
        t = httpclient.InferInput(name, list(array.shape), datatype)
        t.set_data_from_numpy(array, binary_data=binary_in)
        request_inputs.append(t)
    request_outputs = [httpclient.InferRequestedOutput(o, binary_data=binary_out) for o in outputs]
    return client.infer(model, request_inputs, outputs=request_outputs, request_id="tc-1")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default="127.0.0.1:8080")
    ap.add_argument("--launch", help="an amlis-serve binary to start on a free port")
    ap.add_argument("--model-dir", help="the model directory for --launch")
    args = ap.parse_args()
    proc = None
    url = args.url
    if args.launch:
        proc, url = launch(args.launch, args.model_dir)
    try:
        client = httpclient.InferenceServerClient(url=url)
        check("server live", client.is_server_live())
        check("server ready", client.is_server_ready())
        meta = client.get_server_metadata()
        check("server metadata names amlis", meta["name"] == "amlis")
        check("binary tensor extension announced", "binary_tensor_data" in meta["extensions"])
        m = client.get_model_metadata("iris")
        check("iris metadata: input [-1, 4] FP64", m["inputs"][0]["shape"] == [-1, 4] and m["inputs"][0]["datatype"] == "FP64")
        check("iris ready", client.is_model_ready("iris"))

        x = iris_rows()
        outs = ["predict", "predict_proba", "label"]
        binary = infer(client, "iris", [("input", x, "FP64")], outs, True, True)
        text = infer(client, "iris", [("input", x, "FP64")], outs, False, False)
        p_bin, p_txt = binary.as_numpy("predict_proba"), text.as_numpy("predict_proba")
        check("predict_proba shape [150, 3]", p_bin.shape == (150, 3))
        check("binary and JSON outputs equal bit for bit",
              np.array_equal(p_bin.view(np.uint64), p_txt.view(np.uint64))
              and np.array_equal(binary.as_numpy("predict"), text.as_numpy("predict")))
        check("probabilities sum to 1", np.allclose(p_bin.sum(axis=1), 1.0))
        check("predict is the argmax of predict_proba", np.array_equal(binary.as_numpy("predict"), p_bin.argmax(axis=1).astype(np.float64)))
        labels = binary.as_numpy("label")
        check("labels are the species", set(l.decode() if isinstance(l, bytes) else l for l in labels) <= {"setosa", "versicolor", "virginica"})
        check("request id echoed", binary.get_response().get("id") == "tc-1")
        f32 = infer(client, "iris", [("input", x.astype(np.float32), "FP32")], ["predict"], True, True)
        check("FP32 inputs accepted", f32.as_numpy("predict").shape == (150,))

        cols = penguin_columns(20)
        inputs = [(k, v, "BYTES" if v.dtype == np.object_ else "FP64") for k, v in cols.items()]
        for binary_in in (True, False):
            r = infer(client, "penguins", inputs, ["label", "predict_proba"], binary_in, True)
            check(f"penguins by named columns, BYTES inputs (binary={binary_in})", r.as_numpy("predict_proba").shape == (20, 3))

        index = client.get_model_repository_index()
        check("repository index lists iris", any(e["name"] == "iris" and e["state"] == "READY" for e in index))
        client.unload_model("iris")
        check("unload", not client.is_model_ready("iris"))
        client.load_model("iris")
        check("load", client.is_model_ready("iris"))
        try:
            infer(client, "nope", [("input", x, "FP64")], ["predict"], True, True)
            check("unknown model is an error", False)
        except InferenceServerException as e:
            check("unknown model is an error: " + str(e.message())[:60], True)
        try:
            infer(client, "iris", [("input", x[:, :3].copy(), "FP64")], ["predict"], True, True)
            check("wrong width is an error", False)
        except InferenceServerException as e:
            check("wrong width is an error: " + str(e.message())[:60], True)
        print("all checks passed")
    finally:
        if proc:
            proc.terminate()
            proc.wait(timeout=30)


if __name__ == "__main__":
    main()
