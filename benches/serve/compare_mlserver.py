#!/usr/bin/env python3
"""amlis-serve against MLServer 1.7 + mlserver-sklearn on the same machine, same model (iris:
standard scaler + logistic regression), same V2 JSON requests from the same loopback load
generator (benches/serve/load.rs): throughput, p50/p99 latency at batch 1 and 100, peak RSS.
During the amlis batch-1 run the model file is replaced 5 times (hot reload under load); the
load generator counts every non-200 answer as an error, and every 200 answer whose outputs
differ from those of a reference request sent before the run as `wrong` (also an error).

    pip install "mlserver==1.7.1" "mlserver-sklearn==1.7.1" "uvloop<0.22" scikit-learn joblib
    (MLServer 1.7.1 workers fail to start with uvloop 0.22: "no current event loop")
    cargo run --release --example serve -- /tmp/amlis-models
    cargo build --release --features serve --bin amlis-serve --example serve_load
    python3 benches/serve/compare_mlserver.py --amlis target/release/amlis-serve \
        --load target/release/examples/serve_load --model-dir /tmp/amlis-models

Prints a markdown table.
"""

import argparse
import csv
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "..", "data")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_ready(url, timeout=120):
    start = time.time()
    while time.time() - start < timeout:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except Exception:
            pass
        time.sleep(0.2)
    sys.exit(f"not ready: {url}")


def tree_pids(pid):
    """pid and its descendants."""
    out = [pid]
    try:
        children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    except FileNotFoundError:
        children = []
    for c in children:
        out += tree_pids(int(c))
    return out


def rss_kib(pid):
    """Current RSS of a process tree (KiB)."""
    total = 0
    for p in tree_pids(pid):
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


class PeakRss:
    def __init__(self, pid):
        self.pid, self.peak, self.stop = pid, 0, False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stop:
            self.peak = max(self.peak, rss_kib(self.pid))
            time.sleep(0.05)

    def done(self):
        self.stop = True
        self.thread.join()
        return self.peak


def load(binary, port, model, batch, connections, requests, seconds):
    out = subprocess.run(
        [binary, "--addr", f"127.0.0.1:{port}", "--model", model, "--features", "4", "--batch", str(batch),
         "--connections", str(connections), "--requests", str(requests), "--max-seconds", str(seconds)],
        capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_series(name, pid, port, args, during=None):
    rows = []
    for batch in (1, 100):
        load(args.load, port, "iris", batch, args.connections, 200, 10)  # warm-up
        peak = PeakRss(pid)
        hook = threading.Thread(target=during, daemon=True) if (during and batch == 1) else None
        if hook:
            hook.start()
        r = load(args.load, port, "iris", batch, args.connections, args.requests, args.seconds)
        if hook:
            hook.join()
        r["peak_rss_mib"] = peak.done() / 1024
        r["server"] = name
        rows.append(r)
    return rows


def sklearn_model(directory):
    import joblib
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    with open(os.path.join(DATA, "iris.csv")) as f:
        rows = list(csv.reader(f))[1:]
    x = [[float(v) for v in r[:4]] for r in rows]
    y = [r[4] for r in rows]
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(x, y)
    os.makedirs(os.path.join(directory, "iris"))
    joblib.dump(model, os.path.join(directory, "iris", "model.joblib"))
    with open(os.path.join(directory, "iris", "model-settings.json"), "w") as f:
        json.dump({"name": "iris", "implementation": "mlserver_sklearn.SKLearnModel",
                   "parameters": {"uri": "./model.joblib", "version": "v1"}}, f)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--amlis", required=True, help="the amlis-serve binary (release)")
    ap.add_argument("--load", required=True, help="the serve_load example binary (release)")
    ap.add_argument("--model-dir", required=True, help="a directory with iris.amlis (examples/serve.rs)")
    ap.add_argument("--mlserver", default="mlserver")
    ap.add_argument("--connections", type=int, default=8)
    ap.add_argument("--requests", type=int, default=20000)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--skip-mlserver", action="store_true")
    args = ap.parse_args()
    results = []

    port = free_port()
    amlis = subprocess.Popen([args.amlis, "--model-dir", args.model_dir, "--addr", f"127.0.0.1:{port}",
                              "--poll-interval-ms", "100"], stderr=subprocess.DEVNULL)
    try:
        wait_ready(f"http://127.0.0.1:{port}/v2/models/iris/ready")
        model_file = os.path.join(args.model_dir, "iris.amlis")
        original = open(model_file, "rb").read()

        def reloads():
            for _ in range(5):
                time.sleep(0.3)
                with open(os.path.join(args.model_dir, ".iris.swap"), "wb") as f:
                    f.write(original)
                os.replace(os.path.join(args.model_dir, ".iris.swap"), model_file)

        results += run_series("amlis-serve", amlis.pid, port, args, during=reloads)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/models/iris") as r:
            results[-1]["versions_after_reloads"] = json.load(r)["versions"]
    finally:
        amlis.send_signal(signal.SIGTERM)
        amlis.wait(timeout=30)

    if not args.skip_mlserver:
        work = tempfile.mkdtemp(prefix="mlserver-")
        sklearn_model(work)
        port, grpc, metrics = free_port(), free_port(), free_port()
        with open(os.path.join(work, "settings.json"), "w") as f:
            json.dump({"http_port": port, "grpc_port": grpc, "metrics_port": metrics}, f)
        ml = subprocess.Popen([args.mlserver, "start", work], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
        try:
            wait_ready(f"http://127.0.0.1:{port}/v2/models/iris/ready")
            results += run_series("MLServer 1.7.1 + mlserver-sklearn", ml.pid, port, args)
        finally:
            os.killpg(ml.pid, signal.SIGTERM)
            ml.wait(timeout=60)
            shutil.rmtree(work, ignore_errors=True)

    print("| server | batch | connections | ok | errors | wrong | requests/s | rows/s | p50 µs | p99 µs | peak RSS MiB |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['server']} | {r['batch']} | {r['connections']} | {r['ok']} | {r['errors']} | {r.get('wrong', 0)} | "
              f"{r['requests_per_s']:.0f} | {r['rows_per_s']:.0f} | {r['p50_us']} | {r['p99_us']} | {r['peak_rss_mib']:.1f} |")
    for r in results:
        if "versions_after_reloads" in r:
            print(f"amlis-serve model versions after the reloads during the batch-1 run: {r['versions_after_reloads']}")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
